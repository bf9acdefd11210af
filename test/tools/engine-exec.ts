// Processes for command resources: /bin/sh (or the resource's interpreter) for
// command:local:Command, the OpenSSH client for command:remote:Command. A timeout kills the whole
// process group, as the provider's cancelled context would end the command.
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Killed at its timeout. */
  timedOut: boolean;
}

export interface RunOptions {
  stdin?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Seconds; 0 or undefined: no limit. */
  timeout?: number;
}

export function runProcess(cmd: string, args: string[], opts: RunOptions = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: opts.env ?? process.env, cwd: opts.cwd, detached: true });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let done = false;
    const finish = (code: number) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    };
    const timer = opts.timeout
      ? setTimeout(() => {
          timedOut = true;
          try {
            process.kill(-child.pid!, "SIGKILL");
          } catch {
            /* already gone */
          }
          // A grandchild that left the process group may hold the pipes open: do not wait for it.
          setTimeout(() => finish(137), 2000).unref();
        }, opts.timeout * 1000)
      : undefined;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", (err) => (done ? undefined : ((done = true), clearTimeout(timer), reject(err))));
    child.on("close", (code) => finish(code ?? 137));
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.stdin ?? "");
  });
}

/** The inputs of command:local:Command that change how its command runs. */
export interface LocalInputs {
  interpreter?: string[];
  dir?: string;
  environment?: Record<string, string>;
  stdin?: string;
  addPreviousOutputInEnv?: boolean;
}

/** local/commandOutputs.go: run(). The previous stdout/stderr go into PULUMI_COMMAND_* unless turned off. */
export function runLocal(commandText: string, inputs: LocalInputs, previous: { stdout?: string; stderr?: string }, timeout?: number): Promise<ProcessResult> {
  const [cmd, ...args] = inputs.interpreter?.length ? inputs.interpreter : ["/bin/sh", "-c"];
  const env: NodeJS.ProcessEnv = { ...process.env, ...(inputs.environment ?? {}) };
  if (inputs.addPreviousOutputInEnv !== false) {
    if (previous.stdout) env.PULUMI_COMMAND_STDOUT = previous.stdout;
    if (previous.stderr) env.PULUMI_COMMAND_STDERR = previous.stderr;
  }
  return runProcess(cmd, [...args, commandText], { stdin: inputs.stdin || undefined, env, cwd: inputs.dir ?? process.cwd(), timeout });
}

export interface Connection {
  host: string;
  port?: number;
  user?: string;
  privateKey?: string;
  hostKey?: string;
  dialErrorLimit?: number;
  perDialTimeout?: number;
}

/** connection fields the double can honour; any other (password, proxy, agent...) is refused. */
export const MODELLED_CONNECTION_FIELDS = ["host", "port", "user", "privateKey", "hostKey", "dialErrorLimit", "perDialTimeout"];

/**
 * One remote command over OpenSSH with the resource's own connection: the host key pinned when
 * the connection pins it, dial retries up to dialErrorLimit. Like @pulumi/command 1.2.1
 * (remote/connection.go, dialWithRetry): every failed dial is retried, authentication and host
 * key failures included, waiting 100 ms and 1.5 times longer each time, at most 5 s.
 * `onSession` is called for every SSH session opened.
 */
export async function runSsh(conn: Connection, commandText: string, stdin: string | undefined, timeout: number | undefined, onSession: () => void): Promise<ProcessResult> {
  removeStaleKeyDirs();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mailfleet-ssh-${process.pid}-`));
  const deadline = timeout ? Date.now() + timeout * 1000 : undefined;
  try {
    const keyFile = path.join(dir, "key");
    fs.writeFileSync(keyFile, conn.privateKey!.endsWith("\n") ? conn.privateKey! : `${conn.privateKey}\n`, { mode: 0o600 });
    const port = conn.port ?? 22;
    const knownHosts = path.join(dir, "known_hosts");
    if (conn.hostKey) fs.writeFileSync(knownHosts, `${port === 22 ? conn.host : `[${conn.host}]:${port}`} ${conn.hostKey}\n`);
    const args = [
      // -F /dev/null: the provider reads no ssh_config (no SendEnv, ControlMaster, agent).
      "-F", "/dev/null", "-p", String(port), "-i", keyFile, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
      "-o", `ConnectTimeout=${conn.perDialTimeout ?? 15}`,
      // @pulumi/command 1.2.1 (remote/connection.go) offers only the pinned key's own type as host
      // key algorithm: for an "ssh-rsa" pin that is SHA-1 RSA, which OpenSSH >= 8.8 servers refuse.
      ...(conn.hostKey
        ? ["-o", `HostKeyAlgorithms=${conn.hostKey.split(" ")[0]}`, "-o", `UserKnownHostsFile=${knownHosts}`, "-o", "StrictHostKeyChecking=yes"]
        : ["-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no"]),
      `${conn.user ?? "root"}@${conn.host}`, "--", commandText,
    ];
    const limit = conn.dialErrorLimit ?? 10;
    for (let attempt = 1; ; attempt++) {
      onSession();
      const left = deadline ? Math.max(0.001, (deadline - Date.now()) / 1000) : undefined;
      const r = await runProcess("ssh", args, { stdin, timeout: left });
      // 255: ssh could not connect (the command's own exit codes are passed through).
      const dialFailed = r.code === 255 && /Connection refused|timed out|No route|Connection reset|kex_exchange|Permission denied|Host key verification failed|HOST IDENTIFICATION/.test(r.stderr);
      if (dialFailed && attempt < limit && !r.timedOut) {
        await new Promise((res) => setTimeout(res, Math.min(100 * 1.5 ** (attempt - 1), 5000)));
        continue;
      }
      return r;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The private key is written to a folder of its own for OpenSSH's -i and removed after the
 * session; a double killed meanwhile (SIGKILL, a CI time-out) cannot remove it, so every run
 * removes the folders of processes that no longer exist.
 */
export function removeStaleKeyDirs(): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    const m = /^mailfleet-ssh-(\d+)-/.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
