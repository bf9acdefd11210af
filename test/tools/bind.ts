// A real BIND 9 (Debian's named) in the root namespace, primary for test zones and accepting
// TSIG-signed dynamic updates (RFC 2136, RFC 8945) with one key. For tests of code that publishes
// records through nsupdate. Everything lives in a fresh directory that stop() removes.
// See named.conf(5), named(8), nsupdate(1).
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export interface BindZone {
  /** Zone apex without the trailing dot. @example "mailfleet.test" */
  name: string;
  /** Extra zone-file lines with absolute owner names; SOA, NS and the NS host's address are
   * written by the fixture. @example ["mx.partner.test. 300 IN A 10.1.2.3"] @default [] */
  records?: string[];
  /** false: the key may not update this zone (allow-update { none; }), as for a zone another
   * team owns. @default true */
  updatable?: boolean;
  /** Record types the key may update anywhere in the zone, as an update-policy grant
   * ("zonesub") instead of allow-update: e.g. ["TXT"] for a key meant for ACME challenges. */
  grantTypes?: string[];
}

export interface TsigKey {
  name: string;
  algorithm: "hmac-sha256";
  /** Base64. */
  secret: string;
}

export interface BindOptions {
  /** IPv4 or IPv6 address to listen on. It must be assigned to an interface: named only binds
   * to interface addresses, so 127.0.0.153 needs `ip addr add 127.0.0.153/32 dev lo` first. */
  listen: string;
  /** UDP/TCP port. @default 53 */
  port?: number;
  zones: BindZone[];
  /** The key allowed to update every zone (allow-update { key NAME; }). */
  key: TsigKey;
  /** How long to wait for named to answer. @default 10000 */
  startTimeoutMs?: number;
}

export interface Bind {
  ip: string;
  port: number;
  /** "ip:port" or "[ip]:port". */
  address: string;
  /** dig +short answers for name/type from this server (no recursion): sorted, trimmed lines. */
  query(name: string, type: string): string[];
  /** The zone's SOA serial. */
  serial(zone: string): number;
  /** An update signed with the fixture's key, as another administrator would make it:
   * nsupdate commands such as "update add x.example.test. 300 MX 20 mx.other.test." */
  update(zone: string, commands: string[]): void;
  /** named's log so far, read from its file. */
  log(): string;
  /** Resolves with the log once `pattern` matches it; rejects with the log after `timeoutMs`
   * (default 5000). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM, wait for named to exit, remove the directory. Idempotent. */
  stop(): void;
}

const NAME_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
const IPV4_RE = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
// Hex and colons only (no zone index, no embedded IPv4); net.isIPv6 checks the shape.
const IPV6_RE = /^[0-9a-f:]+$/i;
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

export function newTsigKey(name = "mailfleet-test-key"): TsigKey {
  return { name, algorithm: "hmac-sha256", secret: randomBytes(32).toString("base64") };
}

/** The key statement, for named.conf and for `nsupdate -k FILE` (which reads the same syntax). */
export function tsigKeyClause(key: TsigKey): string {
  if (!NAME_RE.test(key.name)) throw new Error(`bind: bad key name ${JSON.stringify(key.name)}`);
  if (key.algorithm !== "hmac-sha256") throw new Error(`bind: unsupported TSIG algorithm ${JSON.stringify(key.algorithm)}`);
  if (!BASE64_RE.test(key.secret)) throw new Error(`bind: key ${key.name}: secret is not base64`);
  return `key "${key.name}" { algorithm ${key.algorithm}; secret "${key.secret}"; };\n`;
}

export function namedConf(dir: string, opts: BindOptions, port: number): string {
  const v6 = opts.listen.includes(":");
  const listen = v6
    ? `listen-on { none; }; listen-on-v6 port ${port} { ${opts.listen}; };`
    : `listen-on port ${port} { ${opts.listen}; }; listen-on-v6 { none; };`;
  return [
    // Without this named opens its command channel on 127.0.0.1#953 and ::1#953 (and logs that
    // it cannot read /etc/bind/rndc.key): a second instance, or the system's, would collide.
    "controls { };",
    `options { directory "${dir}"; pid-file none; ${listen} recursion no; allow-query { any; };`
      + ` dnssec-validation no; notify no; session-keyfile "${dir}/session.key"; };`,
    tsigKeyClause(opts.key).trimEnd(),
    ...opts.zones.map((z) => `zone "${z.name}" { type primary; file "${z.name}.db"; ${z.grantTypes ? `update-policy { grant "${opts.key.name}" zonesub ${z.grantTypes.join(" ")}; };` : `allow-update { ${z.updatable === false ? "none" : `key "${opts.key.name}"`}; };`} };`),
    "",
  ].join("\n");
}

export function zoneFile(zone: BindZone, listen: string): string {
  const ns = `ns.${zone.name}.`;
  // An in-zone NS host needs an address record or named refuses to load the zone.
  const glue = `${ns} IN ${listen.includes(":") ? "AAAA" : "A"} ${listen}`;
  return [
    "$TTL 300",
    `${zone.name}. IN SOA ${ns} hostmaster.${zone.name}. 1 3600 600 86400 300`,
    `${zone.name}. IN NS ${ns}`,
    glue,
    ...(zone.records ?? []),
    "",
  ].join("\n");
}

function validate(opts: BindOptions): void {
  const l = opts.listen;
  if (!(IPV4_RE.test(l) || (IPV6_RE.test(l) && net.isIPv6(l)))) throw new Error(`bind: bad listen address ${JSON.stringify(l)}`);
  // named binds only to addresses it finds on an interface and otherwise starts without
  // listening at all, which would show up later as "connection refused".
  const assigned = Object.values(os.networkInterfaces()).flat().some((i) => i && net.isIP(i.address) && sameIp(i.address, l));
  if (!assigned) throw new Error(`bind: ${l} is not assigned to any interface; named would not listen on it`);
  const port = opts.port ?? 53;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`bind: bad port ${port}`);
  if (opts.zones.length === 0) throw new Error("bind: no zones");
  const seen = new Set<string>();
  for (const z of opts.zones) {
    if (!NAME_RE.test(z.name)) throw new Error(`bind: bad zone name ${JSON.stringify(z.name)}`);
    if (seen.has(z.name)) throw new Error(`bind: zone ${z.name} given twice`);
    seen.add(z.name);
    for (const r of z.records ?? []) {
      // One record per entry: a line break would let an entry add directives or more records.
      if (/[\x00-\x1f]/.test(r)) throw new Error(`bind: zone ${z.name}: record ${JSON.stringify(r)} contains a control character`);
    }
    for (const t of z.grantTypes ?? []) if (!/^[A-Z0-9]+$/.test(t)) throw new Error(`bind: zone ${z.name}: bad record type ${JSON.stringify(t)}`);
  }
  tsigKeyClause(opts.key);
}

function sameIp(a: string, b: string): boolean {
  if (net.isIPv4(a) || net.isIPv4(b)) return a === b;
  const list = new net.BlockList();
  list.addAddress(a, "ipv6");
  return list.check(b, "ipv6");
}

/**
 * Debian's AppArmor profile for /usr/sbin/named (/etc/apparmor.d/usr.sbin.named) confines it to
 * /etc/bind (read), /var/lib/bind and /var/cache/bind; under an enforced profile named could not
 * read a config in /tmp. /var/lib/bind is where the profile puts dynamically updated zones.
 */
function baseDir(): string {
  let profiles = "";
  try {
    profiles = fs.readFileSync("/sys/kernel/security/apparmor/profiles", "utf8");
  } catch {
    return os.tmpdir(); // No AppArmor in this kernel (or securityfs not mounted): nothing confines named.
  }
  return /^(named|\/usr\/sbin\/named) \(enforce\)$/m.test(profiles) ? "/var/lib/bind" : os.tmpdir();
}

function check(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.error) throw new Error(`bind: ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`bind: ${cmd} ${args.join(" ")} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  return r.stdout + r.stderr;
}

function dig(ip: string, port: number, name: string, type: string): string[] {
  const r = spawnSync("dig", ["+norec", "+short", "+time=2", "+tries=1", `@${ip}`, "-p", String(port), name, type], { encoding: "utf8" });
  if (r.error) throw new Error(`bind: dig: ${r.error.message}`);
  // +short still prints ";; communications error ..." on stdout when there is no answer.
  if (r.status !== 0) throw new Error(`bind: dig @${ip} -p ${port} ${name} ${type} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  return r.stdout.split("\n").map((s) => s.trim()).filter((s) => s !== "").sort();
}

/** Blocks until the child has exited (a zombie has closed its sockets) or `ms` passes. */
function waitGone(child: ChildProcess, ms: number): boolean {
  const until = Date.now() + ms;
  const tick = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null) return true;
    let state = "";
    try {
      state = fs.readFileSync(`/proc/${child.pid}/stat`, "utf8").replace(/^.*\) /s, "")[0];
    } catch {
      return true;
    }
    if (state === "Z" || state === "X") return true;
    Atomics.wait(tick, 0, 0, 10);
  }
  return false;
}

const alive = new Map<ChildProcess, string>();
process.once("exit", () => alive.forEach((dir, c) => {
  c.kill("SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
}));

/** Start named as primary for `opts.zones`, answering once the first zone's SOA is served. */
export async function startBind(opts: BindOptions): Promise<Bind> {
  validate(opts);
  const port = opts.port ?? 53;
  const timeoutMs = opts.startTimeoutMs ?? 10000;
  const dir = fs.mkdtempSync(path.join(baseDir(), "mailfleet-bind-"));
  const conf = path.join(dir, "named.conf");
  let child: ChildProcess | undefined;
  const logFile = path.join(dir, "named.log");
  const readLog = () => { try { return fs.readFileSync(logFile, "utf8"); } catch { return ""; } };

  const stop = () => {
    if (child) {
      alive.delete(child);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        // Wait so that the port is free when stop() returns and named no longer writes
        // (journal, managed-keys.bind) into the directory being removed.
        if (!waitGone(child, 5000)) {
          child.kill("SIGKILL");
          waitGone(child, 2000);
        }
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  try {
    // named runs as root here but drops CAP_DAC_OVERRIDE (it cannot read /etc/bind/rndc.key,
    // owned by bind), so its files must be owned by root: created by us, they are.
    fs.writeFileSync(conf, namedConf(dir, opts, port), { mode: 0o644 });
    for (const z of opts.zones) fs.writeFileSync(path.join(dir, `${z.name}.db`), zoneFile(z, opts.listen), { mode: 0o644 });
    check("named-checkconf", [conf]);
    for (const z of opts.zones) {
      const out = check("named-checkzone", [z.name, path.join(dir, `${z.name}.db`)]);
      // named loads a zone with records outside it and drops them, so a typo would go unnoticed.
      if (/ignoring out-of-zone data/.test(out)) throw new Error(`bind: zone ${z.name} has records outside it:\n${out}`);
    }
  } catch (e) {
    stop();
    throw e;
  }

  // -g: foreground, log to stderr. No -u: as root without -u named keeps running as root (with
  // reduced capabilities), which is what lets it write the root-owned zone files and journals.
  // Its output goes to a file, never a pipe: a test that blocks in spawnSync for the length of a
  // `pulumi up` would stop reading, the pipe would fill, and named would hang writing its log.
  const logFd = fs.openSync(logFile, "a", 0o644);
  child = spawn("named", ["-g", "-c", conf], { stdio: ["ignore", logFd, logFd] });
  fs.closeSync(logFd);
  alive.set(child, dir);
  let exited = "";
  child.once("exit", (code, sig) => (exited = `exited (${code ?? sig})`));
  child.once("error", (e) => (exited = e.message));

  const where = opts.listen.includes(":") ? `[${opts.listen}]:${port}` : `${opts.listen}:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // The banner says "running on Linux ..." at once; the ready line is a bare "running".
    if (/\d running\n/.test(readLog())) {
      try {
        if (dig(opts.listen, port, opts.zones[0].name, "SOA").length > 0) break;
      } catch {
        // Not answering yet; retry until the deadline.
      }
    }
    const why = exited || (Date.now() > deadline ? `did not answer within ${timeoutMs} ms` : "");
    if (why) {
      stop();
      throw new Error(`bind: named on ${where} ${why}:\n${readLog()}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }

  return {
    ip: opts.listen,
    port,
    address: where,
    query: (name, type) => dig(opts.listen, port, name, type),
    serial: (zone) => {
      const soa = dig(opts.listen, port, zone, "SOA");
      const serial = Number(soa[0]?.split(/\s+/)[2]);
      if (soa.length !== 1 || !Number.isInteger(serial)) throw new Error(`bind: no SOA for ${zone}: ${JSON.stringify(soa)}`);
      return serial;
    },
    update: (zone, commands) => {
      const keyFile = path.join(dir, "admin.key");
      fs.writeFileSync(keyFile, tsigKeyClause(opts.key), { mode: 0o600 });
      const input = [`server ${opts.listen} ${port}`, `zone ${zone}.`, ...commands, "send", ""].join("\n");
      const r = spawnSync("nsupdate", ["-k", keyFile], { input, encoding: "utf8", timeout: 20000 });
      if (r.status !== 0) throw new Error(`bind: update of ${zone} failed: ${r.stderr}${r.stdout}`);
    },
    log: readLog,
    waitForLog: async (pattern, ms = 5000) => {
      const until = Date.now() + ms;
      while (!pattern.test(readLog())) {
        if (Date.now() > until) throw new Error(`bind: ${pattern} not in named's log after ${ms} ms:\n${readLog()}`);
        await new Promise((r) => setTimeout(r, 25));
      }
      return readLog();
    },
    stop,
  };
}
