// The one mechanism that writes configuration onto the host: a bundle of rendered files on
// stdin to mailfleet-apply, which stages, validates, swaps and reloads (docs/host-apply.md).
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { encodeBundle, HostFile } from "./bundle";
import { HostAccess, remoteStep } from "./remote";

/** The profiles of files/usr/local/sbin/mailfleet-apply: what is validated and reloaded. */
export type ApplyProfile = "postfix" | "dovecot" | "tls" | "systemd" | "rspamd" | "postsrsd";
/**
 * A profile, optionally with the bundle's own name when one profile has several bundles
 * ("postfix smarthost"): the host keeps the last bundle of each name for drift checks and repair.
 */
export type ApplyTarget = ApplyProfile | `${ApplyProfile} ${string}`;

/**
 * A file whose content may be an Output. `secret`: the content is a secret (a key, a password),
 * so the step's output is kept secret too.
 */
export type HostFileInput = Omit<HostFile, "content"> & { content: pulumi.Input<string>; secret?: boolean };

/**
 * Installs `files` as one change through `mailfleet-apply PROFILE [NAME]`. The bundle is the command's
 * stdin, so `pulumi preview --diff` shows a changed file as its changed lines, an unchanged set
 * runs nothing, and a secret file makes the whole bundle secret.
 */
export function installFiles(
  name: string,
  host: HostAccess,
  target: ApplyTarget,
  files: HostFileInput[],
  opts: pulumi.CustomResourceOptions,
  /**
   * Shell commands run when the resource is destroyed (e.g. remove files no other step writes),
   * before the host's copy of the bundle is removed. No single quotes: they run in bash -c '...'.
   */
  onDelete: string[] = [],
): command.remote.Command {
  const bundle = pulumi
    .all(files.map((f) => pulumi.output(f.content)))
    .apply((contents) => encodeBundle(files.map((f, i) => ({ ...f, content: contents[i] }))));
  const secret = files.some((f) => f.secret);
  // The host keeps the last bundle of each name for drift checks (docs/drift.md): it goes too.
  const kept = `/var/lib/mailfleet/bundles/${target.replace(" ", "-")}.bundle`;
  const steps = [...onDelete, `rm -f ${kept}`];
  if (steps.some((s) => s.includes("'"))) throw new Error(`${name}: a delete command may not contain a single quote`);
  return remoteStep(name, { host, create: `/usr/local/sbin/mailfleet-apply ${target}`, stdin: bundle, delete: `bash -c '${steps.join("; ")}'`, secret }, opts);
}
