// How every component reaches the host: one SSH connection shape and one way to make a remote
// command. Secrets travel on stdin only: @pulumi/command puts the whole command text into its
// error messages, so the command text never holds one.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

export interface HostAccess {
  /** IP address or DNS name. */
  address: pulumi.Input<string>;
  /** SSH port. */
  port: pulumi.Input<number>;
  /** Login user: root, or a user with passwordless sudo. */
  user: string;
  /** Must be a secret Output (pulumi.secret or config.requireSecret). */
  privateKey: pulumi.Input<string>;
  /** Pinned host key, "ssh-ed25519 AAAA..."; without it @pulumi/command does not check the host. */
  hostKey: pulumi.Input<string>;
}

/**
 * The connection input. Built field by field: an unknown field in `connection` makes the
 * provider print the whole object, private key included, in its error.
 */
export function connectionOf(host: HostAccess, dial?: { dialErrorLimit: number; perDialTimeout: number }): command.types.input.remote.ConnectionArgs {
  return {
    host: host.address,
    port: host.port,
    user: host.user,
    privateKey: pulumi.secret(host.privateKey),
    hostKey: host.hostKey,
    ...(dial ?? {}),
  };
}

/** Commands run as root: directly, or through passwordless sudo for another login. */
export function asRoot(host: HostAccess, commandText: string): string {
  return host.user === "root" ? commandText : `sudo -n ${commandText}`;
}

export interface RemoteStepArgs {
  host: HostAccess;
  /** The command line; never a secret. */
  create: string;
  /** Data or a script for the command, sent on stdin (may be secret). */
  stdin?: pulumi.Input<string>;
  /** Run on `pulumi destroy` of this step. */
  delete?: string;
  /**
   * stdin carries a secret: whatever the step prints might echo it, so its output is neither
   * streamed to the operator's terminal nor stored in plain text (logging "none", stdout and
   * stderr as additional secret outputs).
   */
  secret?: boolean;
  dial?: { dialErrorLimit: number; perDialTimeout: number };
}

/**
 * One step on the host. An input change re-runs `create` (the steps are idempotent); Pulumi's
 * previous-output environment is off because Debian's sshd refuses Setenv of PULUMI_COMMAND_*.
 */
export function remoteStep(name: string, args: RemoteStepArgs, opts: pulumi.CustomResourceOptions): command.remote.Command {
  return new command.remote.Command(
    name,
    {
      connection: connectionOf(args.host, args.dial),
      create: asRoot(args.host, args.create),
      ...(args.delete ? { delete: asRoot(args.host, args.delete) } : {}),
      ...(args.stdin !== undefined ? { stdin: args.stdin } : {}),
      ...(args.secret ? { logging: "none" as const } : {}),
      addPreviousOutputInEnv: false,
    },
    args.secret ? { ...opts, additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "stdout", "stderr"] } : opts,
  );
}

/**
 * A shell script that writes files with a quoted here-document each (no expansion inside), for
 * the bootstrap step that installs mailfleet's own tools before mailfleet-apply exists.
 */
export function heredocInstaller(files: Array<{ path: string; mode: string; content: string }>): string {
  const lines = ["set -euo pipefail", "umask 022"];
  files.forEach((f, i) => {
    const eof = `MAILFLEET_EOF_${i}`;
    if (f.content.split("\n").includes(eof)) throw new Error(`${f.path} contains the line ${eof}`);
    const tmp = `${f.path}.mailfleet-new`;
    lines.push(`install -d -m 0755 ${f.path.slice(0, f.path.lastIndexOf("/"))}`);
    lines.push(`cat >${tmp} <<'${eof}'`, f.content.replace(/\n$/, ""), eof);
    lines.push(`chmod ${f.mode} ${tmp}`, `mv -f ${tmp} ${f.path}`);
  });
  return `${lines.join("\n")}\n`;
}
