// An existing Debian 12 host reached over SSH: checked, given mailfleet's host tools, and its
// packages installed non-interactively.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { hostPrograms } from "./host-programs";
import { HostSize, parseHostSize } from "./host-size";
import { HostAccess, heredocInstaller, remoteStep } from "./remote";

export interface DebianHostArgs {
  /** How to reach the host; the private key must be a secret. */
  access: HostAccess;
  /**
   * Debian packages to install (apt-get, non-interactive). Removing one here does not purge it.
   * @example ["postfix", "dovecot-core"]
   */
  packages: string[];
  /**
   * debconf selections to preseed before installing, one per line as for debconf-set-selections(1).
   * @default []
   * @example ["postfix postfix/main_mailer_type select No configuration"]
   */
  debconf?: string[];
}

export class DebianHost extends pulumi.ComponentResource {
  /** The host's access details, for the components that configure it. */
  public readonly access: HostAccess;
  /** Depend on this to run after the packages are installed. */
  public readonly ready: command.remote.Command;
  /** Cores and memory, as the package step read them on the host. */
  public readonly size: pulumi.Output<HostSize>;

  constructor(name: string, args: DebianHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mailfleet:host:DebianHost", name, {}, opts);
    this.access = args.access;
    const bootstrap = this.bootstrap(name, args);
    this.ready = this.installPackages(name, args, bootstrap);
    this.size = this.ready.stdout.apply(parseHostSize);
    this.registerOutputs({});
  }

  /**
   * Refuses anything but Debian 12 and installs mailfleet's programs. They are the one write
   * path for everything else, so they alone are written by a here-document script.
   */
  private bootstrap(name: string, args: DebianHostArgs): command.remote.Command {
    const script = [
      ". /etc/os-release",
      'if [ "${ID:-}" != debian ] || [ "${VERSION_ID:-}" != 12 ]; then',
      '  echo "mailfleet: this host runs ${PRETTY_NAME:-an unknown system}; mailfleet supports Debian 12 (bookworm) only" >&2',
      "  exit 1",
      "fi",
      heredocInstaller(hostPrograms()),
    ].join("\n");
    return remoteStep(`${name}-bootstrap`, {
      host: args.access,
      create: "bash -s",
      stdin: script,
      // @pulumi/command 1.2.1 retries every failed dial, waiting from 100 ms up to 5 s between
      // tries: 18 tries of at most 10 s wait for a booting VM but give up on a host that never
      // answers after about 4 minutes (60 tries took over 10), naming the address it dialled.
      dial: { dialErrorLimit: 18, perDialTimeout: 10 },
    }, { parent: this, customTimeouts: { create: "10m", update: "10m" } });
  }

  private installPackages(name: string, args: DebianHostArgs, after: pulumi.Resource): command.remote.Command {
    const packages = [...new Set(args.packages)].sort();
    for (const p of packages) if (!/^[a-z0-9][a-z0-9+.-]+$/.test(p)) throw new pulumi.ResourceError(`invalid Debian package name "${p}"`, this);
    const preseed = (args.debconf ?? []).map((l) => l.replace(/'/g, "")).join("\n");
    const script = [
      "set -euo pipefail",
      "export DEBIAN_FRONTEND=noninteractive",
      'log=$(mktemp /run/mailfleet-apt.XXXXXX); trap \'rm -f "$log"\' EXIT',
      // A fresh cloud VM runs unattended-upgrades at first boot: it holds debconf's database and
      // dpkg's lock for minutes. Wait for them (10 minutes at most) instead of failing at once.
      'retry() { local i; for i in $(seq 1 120); do "$@" >>"$log" 2>&1 && return 0; sleep 5; done; tail -n 30 "$log" >&2; return 1; }',
      preseed ? `printf '%s\\n' '${preseed.split("\n").join("' '")}' >"$log.debconf"\nretry debconf-set-selections "$log.debconf"\nrm -f "$log.debconf"` : ":",
      // A dpkg run cut off earlier (power loss, a killed apt) blocks every apt-get until it is
      // finished: finish it first; with nothing pending this is a no-op.
      // </dev/null: this script arrives on stdin, which apt and dpkg must not read from.
      "retry dpkg --force-confold --configure -a </dev/null",
      `install_all() { apt-get install -y -q -o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confold --no-install-recommends ${packages.join(" ")} </dev/null; }`,
      // Try the package lists already on the host first; refresh them only if that fails.
      'if ! install_all >>"$log" 2>&1; then',
      '  apt-get update -q -o DPkg::Lock::Timeout=600 </dev/null >>"$log" 2>&1',
      '  install_all >>"$log" 2>&1 || { tail -n 30 "$log" >&2; exit 1; }',
      "fi",
      `echo "installed: ${packages.join(" ")}"`,
      // The host's size, from which Dovecot's limits derive (docs/dovecot.md#capacity).
      "echo \"host-size: cores=$(nproc) memMiB=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)\"",
    ].join("\n");
    return remoteStep(`${name}-packages`, {
      host: args.access,
      create: "bash -s",
      stdin: script,
    }, { parent: this, dependsOn: [after], customTimeouts: { create: "30m", update: "30m" } });
  }
}
