// The bundle: how a set of rendered files travels to mailfleet-apply on the host
// (docs/host-apply.md#bundles).

export type FileKind =
  /** installed as is */
  | "plain"
  /** a hash: table: postmap builds FILE.db next to it */
  | "postmap"
  /** the aliases file: postalias builds FILE.db */
  | "postalias";

export interface HostFile {
  path: string;
  owner: string;
  group: string;
  mode: string;
  kind: FileKind;
  content: string;
}

const BUNDLE_MARK = "@@";

/**
 * Serialises files for the host-side installer (files/usr/local/sbin/mailfleet-apply): a
 * header line per file, the content as text (so `pulumi preview --diff` shows a changed file as its
 * changed lines), and an end line; then "@@done COUNT". Content lines may not start with the marker.
 */
export function encodeBundle(files: HostFile[]): string {
  const seen = new Set<string>();
  let out = "";
  for (const f of files) {
    if (!/^\/[A-Za-z0-9._\/-]+$/.test(f.path) || /\/\/|\/\.\.?(\/|$)/.test(f.path)) throw new Error(`bad host path ${f.path}`);
    if (seen.has(f.path)) throw new Error(`file ${f.path} appears twice in one bundle`);
    seen.add(f.path);
    if (!/^0[0-7]{3}$/.test(f.mode)) throw new Error(`bad mode ${f.mode} for ${f.path}`);
    if (!/^[a-z_][a-z0-9_-]*$/.test(f.owner) || !/^[a-z_][a-z0-9_-]*$/.test(f.group)) throw new Error(`bad owner for ${f.path}`);
    if (f.content !== "" && !f.content.endsWith("\n")) throw new Error(`content of ${f.path} must end with a newline`);
    if (f.content.split("\n").some((l) => l.startsWith(BUNDLE_MARK))) throw new Error(`content of ${f.path} has a line starting with ${BUNDLE_MARK}`);
    out += `${BUNDLE_MARK}file ${f.path} ${f.mode} ${f.owner} ${f.group} ${f.kind}\n${f.content}${BUNDLE_MARK}end\n`;
  }
  // The count line tells the host the bundle arrived whole (an interrupted stdin ends early).
  return `${out}${BUNDLE_MARK}done ${files.length}\n`;
}
