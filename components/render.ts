// Template rendering and the file-bundle format: pure functions, no resources.
import * as fs from "fs";
import * as path from "path";

export const TEMPLATE_DIR = path.join(__dirname, "..", "templates");

/**
 * Fills `{{name}}` placeholders of `templates/<hostPath>.tmpl`. Throws on a placeholder without a
 * value and on a value the template does not use, so templates and code cannot drift apart.
 * Postfix `$var`/`${var}` and Dovecot `%u` never clash: they never use double braces.
 */
export function renderTemplate(hostPath: string, vars: Record<string, string>): string {
  const file = path.join(TEMPLATE_DIR, `${hostPath.replace(/^\//, "")}.tmpl`);
  const template = fs.readFileSync(file, "utf8");
  const used = new Set<string>();
  const out = template.replace(/\{\{([a-zA-Z0-9_]+)\}\}/g, (_, name: string) => {
    if (!(name in vars)) throw new Error(`template ${file}: no value for {{${name}}}`);
    used.add(name);
    return vars[name];
  });
  const unused = Object.keys(vars).filter((n) => !used.has(n));
  if (unused.length) throw new Error(`template ${file}: unused values ${unused.join(", ")}`);
  if (/\{\{|\}\}/.test(out)) throw new Error(`template ${file}: malformed placeholder left after rendering`);
  return out;
}

/** One Postfix lookup table (hash:, cidr:, regexp: source text): key and value per line. */
export interface LookupTable {
  entries: Array<[key: string, value: string]>;
}

/** Renders a table's entries, keys aligned; Postfix maps allow no trailing comments (F-03.5). */
export function renderTableEntries(table: LookupTable): string {
  if (table.entries.length === 0) return "";
  const width = Math.max(...table.entries.map(([key]) => key.length)) + 2;
  return table.entries.map(([key, value]) => `${key.padEnd(width)}${value}\n`).join("");
}

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
 * Serialises files for the host-side installer (templates/usr/local/sbin/mailfleet-apply): a
 * header line per file, the content as text (so `pulumi preview --diff` shows a changed file as its
 * changed lines), and an end line. Content lines may not start with the marker.
 */
export function encodeBundle(files: HostFile[]): string {
  const seen = new Set<string>();
  let out = "";
  for (const f of files) {
    if (!/^\/[A-Za-z0-9._\/-]+$/.test(f.path)) throw new Error(`bad host path ${f.path}`);
    if (seen.has(f.path)) throw new Error(`file ${f.path} appears twice in one bundle`);
    seen.add(f.path);
    if (!/^0[0-7]{3}$/.test(f.mode)) throw new Error(`bad mode ${f.mode} for ${f.path}`);
    if (!/^[a-z_][a-z0-9_-]*$/.test(f.owner) || !/^[a-z_][a-z0-9_-]*$/.test(f.group)) throw new Error(`bad owner for ${f.path}`);
    if (f.content !== "" && !f.content.endsWith("\n")) throw new Error(`content of ${f.path} must end with a newline`);
    if (f.content.split("\n").some((l) => l.startsWith(BUNDLE_MARK))) throw new Error(`content of ${f.path} has a line starting with ${BUNDLE_MARK}`);
    out += `${BUNDLE_MARK}file ${f.path} ${f.mode} ${f.owner} ${f.group} ${f.kind}\n${f.content}${BUNDLE_MARK}end\n`;
  }
  return out;
}

/** The standard first line of every rendered file. */
export function managedHeader(stack: string): string {
  return `# managed by mailfleet (stack ${stack}); local edits are overwritten`;
}
