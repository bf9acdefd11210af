// The engine double: runs the real Pulumi program under pulumi.runtime.setMocks and carries out
// its resources the way `pulumi up` would with @pulumi/command 1.2.1:
//  - command:remote:Command over SSH (OpenSSH client, host key pinned when the resource pins it),
//    command:local:Command with /bin/sh, dynamic resources through their own serialized provider;
//  - in dependency order (the mock monitor holds back dependants until a resource returns);
//  - against a state file: unchanged inputs run nothing, changed inputs run `update` (or
//    `create`), changed `triggers` replace (create the new, then run the old `delete`), resources
//    gone from the program are deleted after a successful run;
//  - secrets: unwrapped only to run a command; every secret string is masked in errors and logs,
//    and the state file holds input hashes plus outputs, dynamic outputs encrypted (AES-256-GCM).
// What it does not do: provider plugins other than `command`, ignoreChanges/aliases/protect,
// refresh, or `pulumi preview --diff` rendering (preview only classifies operations).
import { spawn } from "child_process";
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

export type Operation = "create" | "update" | "replace" | "same" | "delete";

export interface OpRecord {
  urn: string;
  type: string;
  name: string;
  op: Operation;
  seconds: number;
  sshSessions: number;
  stdout?: string;
}

interface StateEntry {
  type: string;
  name: string;
  order: number;
  inputsHash: string;
  triggersHash: string;
  /** Plain outputs (commands: stdout/stderr) or, for dynamic resources, an encrypted blob. */
  outputs: Record<string, unknown> | { encrypted: string };
  id?: string;
  /** Commands: the delete command and where to run it (no key: the current run supplies it). */
  deleteCommand?: string;
  target?: { kind: "remote"; host: string; port: number; user: string; hostKey?: string } | { kind: "local" };
  provider?: string;
}

interface StateFile {
  version: 1;
  resources: Record<string, StateEntry>;
}

export interface EngineOptions {
  statePath: string;
  preview: boolean;
  log?: (line: string) => void;
}

export interface RunSummary {
  ok: boolean;
  errors: string[];
  /**
   * Steps whose raw stdout/stderr contained a secret. The real @pulumi/command masks nothing, so
   * a secret a host script printed would reach the user: tests assert this list is empty.
   */
  secretLeaks: string[];
  operations: OpRecord[];
  sshSessions: number;
  outputs: Record<string, unknown>;
}

/** Unwraps RPC secrets deeply, collecting every secret string for masking. */
function unwrap(value: unknown, secrets: Set<string>, inSecret = false): unknown {
  if (pulumi.runtime.isRpcSecret(value)) return unwrap(pulumi.runtime.unwrapRpcSecret(value), secrets, true);
  if (typeof value === "string") {
    if (inSecret && value.length >= 4) secrets.add(value);
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => unwrap(v, secrets, inSecret));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = unwrap(v, secrets, inSecret);
    return out;
  }
  return value;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

const hash = (v: unknown) => createHash("sha256").update(canonical(v)).digest("hex");

export class Engine {
  readonly operations: OpRecord[] = [];
  readonly errors: string[] = [];
  readonly secretLeaks: string[] = [];
  sshSessions = 0;
  private readonly secrets = new Set<string>();
  private readonly old: StateFile;
  private readonly next: StateFile = { version: 1, resources: {} };
  private readonly seen = new Set<string>();
  private readonly failed = new Set<string>();
  private order = 0;
  private readonly key: Buffer;
  private readonly tmp: string;
  private lastConnection?: { privateKey: string };

  constructor(private readonly opts: EngineOptions) {
    this.old = fs.existsSync(opts.statePath) ? JSON.parse(fs.readFileSync(opts.statePath, "utf8")) : { version: 1, resources: {} };
    const keyPath = `${opts.statePath}.key`;
    fs.mkdirSync(path.dirname(opts.statePath), { recursive: true });
    if (!fs.existsSync(keyPath)) fs.writeFileSync(keyPath, randomBytes(32), { mode: 0o600 });
    this.key = fs.readFileSync(keyPath);
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mailfleet-engine-"));
  }

  /** Treats a value as a secret from now on (config secrets handed to the program). */
  addSecret(value: string): void {
    if (value.length >= 4) this.secrets.add(value);
  }

  /** Notes a step whose unmasked output contains a secret (see RunSummary.secretLeaks). */
  private checkLeak(step: string, text: string): void {
    if ([...this.secrets].some((secret) => text.includes(secret)) && !this.secretLeaks.includes(step)) this.secretLeaks.push(step);
  }

  /** Masks every secret string seen so far. */
  mask(text: string): string {
    let out = text;
    for (const s of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(s).join("[secret]");
    for (const line of [...this.secrets].flatMap((s) => s.split("\n")).filter((l) => l.trim().length >= 8)) out = out.split(line).join("[secret]");
    return out;
  }

  private log(line: string): void {
    this.opts.log?.(this.mask(line));
  }

  mocks(): pulumi.runtime.Mocks {
    return {
      newResource: async (args) => {
        try {
          return await this.register(args);
        } catch (err) {
          this.failed.add(`${args.type}::${args.name}`);
          const message = this.mask(`${args.type} ${args.name}: ${(err as Error).message}`);
          this.errors.push(message);
          this.log(`FAILED ${message}`);
          throw new Error(message);
        }
      },
      call: (args) => {
        throw new Error(`unexpected provider function call ${args.token}`);
      },
    };
  }

  private async register(args: pulumi.runtime.MockResourceArgs): Promise<{ id: string | undefined; state: Record<string, unknown> }> {
    if (process.env.MAILFLEET_ENGINE_DEBUG) this.log(`register ${args.type} ${args.name}`);
    if (!args.custom) return { id: undefined, state: {} };
    const urn = `${args.type}::${args.name}`;
    if (this.seen.has(urn)) throw new Error(`duplicate resource ${urn}`);
    this.seen.add(urn);
    const plain = unwrap(args.inputs, this.secrets) as Record<string, unknown>;
    if (args.type === "command:remote:Command" || args.type === "command:local:Command") return this.command(urn, args, plain);
    if (args.type.startsWith("pulumi-nodejs:dynamic")) return this.dynamic(urn, args, plain);
    // Anything else (cloud or DNS providers) needs a plugin: registered, never carried out.
    this.record(urn, args, plain, "", { ...plain });
    return { id: `${args.name}-id`, state: args.inputs };
  }

  private record(urn: string, args: pulumi.runtime.MockResourceArgs, plain: Record<string, unknown>, triggersHash: string, outputs: StateEntry["outputs"], extra: Partial<StateEntry> = {}) {
    this.next.resources[urn] = {
      type: args.type,
      name: args.name,
      order: this.order++,
      inputsHash: hash(plain),
      triggersHash,
      outputs,
      ...extra,
    };
  }

  private classify(urn: string, inputsHash: string, triggersHash: string): Operation {
    const old = this.old.resources[urn];
    if (!old) return "create";
    if (old.triggersHash !== triggersHash) return "replace";
    return old.inputsHash === inputsHash ? "same" : "update";
  }

  private async command(urn: string, args: pulumi.runtime.MockResourceArgs, plain: Record<string, unknown>) {
    const remote = args.type === "command:remote:Command";
    const triggersHash = hash(plain.triggers ?? []);
    const inputsHash = hash(plain);
    const op = this.classify(urn, inputsHash, triggersHash);
    const old = this.old.resources[urn];
    const conn = plain.connection as { host: string; port?: number; user?: string; privateKey?: string; hostKey?: string; dialErrorLimit?: number; perDialTimeout?: number } | undefined;
    if (remote && conn?.privateKey) this.lastConnection = { privateKey: conn.privateKey };
    // The whole connection is one secret, but only its key (or password) needs masking.
    if (conn) for (const v of [conn.host, conn.user, conn.hostKey]) if (v) this.secrets.delete(v);
    const env = (plain.environment ?? {}) as Record<string, string>;
    if (remote && Object.keys(env).some((k) => !/^(LANG|LC_.*)$/.test(k))) {
      throw new Error(`environment ${Object.keys(env).join(",")} would be refused: Debian's sshd accepts only LANG and LC_* (AcceptEnv)`);
    }
    const target: StateEntry["target"] = remote
      ? { kind: "remote", host: conn!.host, port: conn!.port ?? 22, user: conn!.user ?? "root", hostKey: conn!.hostKey }
      : { kind: "local" };
    const extra: Partial<StateEntry> = { deleteCommand: plain.delete as string | undefined, target };
    if (this.opts.preview || op === "same") {
      const outputs = op === "same" ? (old.outputs as Record<string, unknown>) : {};
      this.note(urn, args, op, 0, 0);
      this.record(urn, args, plain, triggersHash, outputs, extra);
      return { id: old?.id ?? `${args.name}-id`, state: { ...args.inputs, ...outputs } };
    }
    const text = (op === "update" ? (plain.update as string | undefined) : undefined) ?? (plain.create as string | undefined);
    const t0 = Date.now();
    const before = this.sshSessions;
    let result = { stdout: "", stderr: "" };
    if (text) {
      this.log(`${op} ${args.name}: running`);
      result = remote
        ? await this.ssh(conn!, text, plain.stdin as string | undefined, args.name)
        : await this.local(text, plain.stdin as string | undefined, env, args.name);
    }
    if (op === "replace" && old.deleteCommand) await this.runDelete(old);
    // Masked: the state file must never hold a plaintext secret, even one a step printed.
    const outputs = { stdout: this.mask(result.stdout), stderr: this.mask(result.stderr) };
    this.note(urn, args, op, (Date.now() - t0) / 1000, this.sshSessions - before, result.stdout);
    this.record(urn, args, plain, triggersHash, outputs, extra);
    return { id: `${args.name}-id`, state: { ...args.inputs, ...outputs } };
  }

  private note(urn: string, args: pulumi.runtime.MockResourceArgs, op: Operation, seconds: number, sshSessions: number, stdout?: string) {
    this.operations.push({ urn, type: args.type, name: args.name, op, seconds, sshSessions, stdout: stdout === undefined ? undefined : this.mask(stdout) });
    if (op !== "same") this.log(`${op} ${args.type} ${args.name} (${seconds.toFixed(1)}s)`);
  }

  private async dynamic(urn: string, args: pulumi.runtime.MockResourceArgs, plain: Record<string, unknown>) {
    // The same path as Pulumi's dynamic provider host: load the serialized provider from __provider.
    const requireFromString = require("require-from-string") as (code: string) => { handler(): pulumi.dynamic.ResourceProvider };
    const serialized = plain.__provider as string;
    const provider = requireFromString(serialized).handler();
    const news: Record<string, unknown> = { ...plain };
    delete news.__provider;
    const old = this.old.resources[urn];
    const oldOuts = old ? this.decrypt((old.outputs as { encrypted: string }).encrypted) : undefined;
    let op: Operation = "create";
    if (old && oldOuts) {
      const diff = provider.diff ? await provider.diff(old.id!, oldOuts, news) : { changes: hash(oldOuts) !== hash(news) };
      op = diff.replaces?.length ? "replace" : diff.changes ? "update" : "same";
    }
    if (this.opts.preview) {
      this.note(urn, args, op, 0, 0);
      const outs = op === "same" ? oldOuts! : {};
      this.record(urn, args, news, "", { encrypted: this.encrypt(outs) }, { id: old?.id, provider: serialized });
      // Outputs left out of the state are unknown in a preview, as with the real engine.
      const known = Object.fromEntries(Object.entries(args.inputs as Record<string, unknown>).filter(([, v]) => v !== undefined));
      if (process.env.MAILFLEET_ENGINE_DEBUG) this.log(`preview state keys ${Object.keys(known).join(",")} raw ${JSON.stringify(Object.keys(args.inputs))}`);
      return { id: old?.id ?? "preview", state: { ...known, ...outs } };
    }
    const t0 = Date.now();
    let id = old?.id ?? "";
    let outs: Record<string, unknown> = oldOuts ?? {};
    if (op === "create" || op === "replace") {
      const created = await provider.create(news);
      id = created.id;
      outs = created.outs ?? {};
      if (op === "replace" && provider.delete && oldOuts) await provider.delete(old!.id!, oldOuts);
    } else if (op === "update") {
      outs = provider.update ? ((await provider.update(id, oldOuts!, news)).outs ?? {}) : news;
    }
    // Output values of dynamic resources can be secrets (a private key): mask them from here on.
    for (const v of Object.values(outs)) if (typeof v === "string" && v.includes("PRIVATE KEY")) this.secrets.add(v);
    this.note(urn, args, op, (Date.now() - t0) / 1000, 0);
    this.record(urn, args, news, "", { encrypted: this.encrypt(outs) }, { id, provider: serialized });
    return { id, state: { ...args.inputs, ...outs } };
  }

  private encrypt(value: unknown): string {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([c.update(JSON.stringify(value), "utf8"), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]).toString("base64");
  }

  private decrypt(blob: string): Record<string, unknown> {
    const raw = Buffer.from(blob, "base64");
    const d = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return JSON.parse(Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString("utf8"));
  }

  private async ssh(
    conn: { host: string; port?: number; user?: string; privateKey?: string; hostKey?: string; dialErrorLimit?: number; perDialTimeout?: number },
    commandText: string,
    stdin?: string,
    step = "delete",
  ): Promise<{ stdout: string; stderr: string }> {
    const dir = fs.mkdtempSync(path.join(this.tmp, "ssh-"));
    try {
      const keyFile = path.join(dir, "key");
      fs.writeFileSync(keyFile, conn.privateKey!.endsWith("\n") ? conn.privateKey! : `${conn.privateKey}\n`, { mode: 0o600 });
      const port = conn.port ?? 22;
      const knownHosts = path.join(dir, "known_hosts");
      const hostField = port === 22 ? conn.host : `[${conn.host}]:${port}`;
      if (conn.hostKey) fs.writeFileSync(knownHosts, `${hostField} ${conn.hostKey}\n`);
      const args = [
        "-p", String(port), "-i", keyFile, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
        "-o", `ConnectTimeout=${conn.perDialTimeout ?? 15}`,
        ...(conn.hostKey ? ["-o", `UserKnownHostsFile=${knownHosts}`, "-o", "StrictHostKeyChecking=yes"] : ["-o", "UserKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=no"]),
        `${conn.user ?? "root"}@${conn.host}`, "--", commandText,
      ];
      const limit = conn.dialErrorLimit ?? 10;
      for (let attempt = 1; ; attempt++) {
        this.sshSessions++;
        const r = await run("ssh", args, stdin);
        // 255: ssh could not connect (the command's own exit codes are passed through).
        if (r.code === 255 && /Connection refused|timed out|No route|Connection reset|kex_exchange/.test(r.stderr) && attempt < limit) {
          await new Promise((res) => setTimeout(res, 100));
          continue;
        }
        this.checkLeak(step, `${r.stdout}\n${r.stderr}`);
        if (r.code !== 0) throw new Error(`command exited ${r.code} on ${conn.host}:\n${this.mask(r.stderr.trim() || r.stdout.trim())}`);
        return r;
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  private async local(commandText: string, stdin: string | undefined, env: Record<string, string>, step = "delete") {
    const r = await run("/bin/sh", ["-c", commandText], stdin, { ...process.env, ...env });
    this.checkLeak(step, `${r.stdout}\n${r.stderr}`);
    if (r.code !== 0) throw new Error(`local command exited ${r.code}:\n${this.mask(r.stderr.trim() || r.stdout.trim())}`);
    return r;
  }

  private async runDelete(entry: StateEntry): Promise<void> {
    if (!entry.deleteCommand || !entry.target) return;
    this.log(`delete ${entry.name}: running`);
    if (entry.target.kind === "local") await this.local(entry.deleteCommand, undefined, {}, `delete ${entry.name}`);
    else await this.ssh({ ...entry.target, privateKey: this.lastConnection?.privateKey }, entry.deleteCommand, undefined, `delete ${entry.name}`);
  }

  /** After a successful run: deletes what the program no longer declares, newest first. */
  async finish(ok: boolean): Promise<void> {
    if (!this.opts.preview && ok) {
      const gone = Object.entries(this.old.resources).filter(([urn]) => !this.seen.has(urn)).sort((a, b) => b[1].order - a[1].order);
      for (const [urn, entry] of gone) {
        const t0 = Date.now();
        const before = this.sshSessions;
        if (entry.provider && entry.id) {
          const provider = (require("require-from-string") as (c: string) => { handler(): pulumi.dynamic.ResourceProvider })(entry.provider).handler();
          if (provider.delete) await provider.delete(entry.id, this.decrypt((entry.outputs as { encrypted: string }).encrypted));
        } else {
          await this.runDelete(entry);
        }
        this.operations.push({ urn, type: entry.type, name: entry.name, op: "delete", seconds: (Date.now() - t0) / 1000, sshSessions: this.sshSessions - before });
        this.log(`delete ${entry.type} ${entry.name}`);
      }
    }
    if (!this.opts.preview) {
      // A failed run keeps the old entry of everything it did not carry out.
      const merged: StateFile = { version: 1, resources: { ...this.next.resources } };
      for (const urn of this.failed) delete merged.resources[urn];
      if (!ok) for (const [urn, entry] of Object.entries(this.old.resources)) if (!merged.resources[urn]) merged.resources[urn] = entry;
      fs.writeFileSync(this.opts.statePath, `${JSON.stringify(merged, null, 1)}\n`, { mode: 0o600 });
    }
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

export function run(cmd: string, args: string[], stdin?: string, env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: env ?? process.env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin ?? "");
  });
}
