// TypeScript face of the test-host scripts in test/tools/testhost/: boot and stop Debian 12
// system containers, reach them over SSH, and the Debian tools tree for config validation.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const SCRIPTS = path.join(__dirname, "testhost");

export interface TestHost {
  name: string;
  fqdn: string;
  ipv4: string;
  ipv6: string;
  sshUser: string;
  sshPort: number;
  /** Path of the private key file. */
  sshKey: string;
  knownHosts: string;
  /** "ssh-ed25519 AAAA..." */
  hostKey: string;
  /** The test machine's own addresses on the bridge: where test clients come from. */
  gateway4: string;
  gateway6: string;
}

function script(name: string, args: string[], timeoutSeconds = 600): string {
  // MAILFLEET_TESTHOST_TRACE=1: run the script under bash -x (the trace goes to the error).
  const trace = process.env.MAILFLEET_TESTHOST_TRACE ? ["-x"] : [];
  const r = spawnSync("bash", [...trace, path.join(SCRIPTS, name), ...args], { encoding: "utf8", timeout: timeoutSeconds * 1000 });
  if (r.status !== 0) {
    throw new Error(`${name} ${args.join(" ")} failed (${r.status ?? r.signal}${r.error ? `, ${r.error.message}` : ""}):\n${r.stderr.slice(-3000)}${r.stdout.slice(-1000)}`);
  }
  return r.stdout.trim().split("\n").pop() ?? "";
}

/** Why this machine cannot run real-host tests, or undefined when it can. */
export function cannotBootHosts(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (network namespaces, overlayfs, systemd-nspawn)";
  return undefined;
}

export function startHost(name: string, opts: { fqdn: string; index?: number }): TestHost {
  const args = [name, "--fqdn", opts.fqdn, ...(opts.index ? ["--index", String(opts.index)] : [])];
  return JSON.parse(fs.readFileSync(script("start-host.sh", args), "utf8"));
}

export function stopHost(...names: string[]): void {
  script("stop-host.sh", names);
}

/** The Debian tree with postfix and dovecot installed (not booted), for `chroot TREE postconf ...`. */
export function toolsTree(): string {
  return script("make-tools-tree.sh", [], 1200);
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** ssh's arguments for running `command` on the host as its SSH user, host key pinned. */
export function sshArgs(host: TestHost, command: string): string[] {
  return [
    "-i", host.sshKey, "-o", `UserKnownHostsFile=${host.knownHosts}`, "-o", "StrictHostKeyChecking=yes",
    "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=5", `${host.sshUser}@${host.ipv4}`, command,
  ];
}

/** Runs `command` on the host; `timeoutMs` (default 2 minutes) bounds the whole call. */
export function ssh(host: TestHost, command: string, input?: string, timeoutMs = 120000): Result {
  const r = spawnSync("ssh", sshArgs(host, command), { encoding: "utf8", input: input ?? "", timeout: timeoutMs });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** ssh that must succeed; returns stdout. */
export function sshOk(host: TestHost, command: string, input?: string): string {
  const r = ssh(host, command, input);
  if (r.code !== 0) throw new Error(`ssh ${host.name} '${command}' exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}
