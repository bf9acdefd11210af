// Benchmark: concurrent IMAPS sessions on a real Debian 12 test host provisioned with 100 load
// mailboxes (plus the sandbox's own), Dovecot sized by mailfleet from the host.
//   npm run bench:imap       (root; boots its own host "benchimap" and removes it afterwards)
// 1. 10 sessions; 1,000 logins at the same moment; then 1,000 sessions (10 per mailbox, Dovecot's
//    per-user-and-address limit) opened 100 a second and kept open: login latency p50/p95/max and
//    failures, and p95 ratios to the 10 sessions measured in the same run.
// 2. The host is provisioned with imapMaxSessions 1,000: with those sessions open, 50 more
//    connections, and what each gets (an IMAP refusal, a reset, or silence); then, with 50 of
//    the slots held by connections that never log in, 50 logins: who is served, and what the
//    idle connections are told.
// Password hashes: the sandbox's 5,000 rounds. Prints figures, asserts nothing.
import * as tls from "tls";
import * as YAML from "yaml";
import { ProvisionedHost } from "../test/tools/provisioned";
import { Override, stackConfig } from "../test/tools/stack-run";
import { cannotBootHosts } from "../test/tools/testhost";

const USERS = 100;
const users = Array.from({ length: USERS }, (_, i) => `load${i}@example.test`);
/** Mailboxes with no session yet: the connections beyond capacity log in as these. */
const spare = Array.from({ length: 10 }, (_, i) => `spare${i}@example.test`);
const passwordOf = (u: string) => `load-password-${u.length}-${u}`;

interface Outcome {
  ok: boolean;
  ms: number;
  /** What the server said when it refused, or the socket error. */
  end: string;
  socket?: tls.TLSSocket;
}

/** Opens an IMAPS session and logs in; keeps the socket open on success. */
function session(address: string, servername: string, ca: string, user: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    let sent = 0n;
    let buffer = "";
    const s = tls.connect({ host: address, port: 993, servername, ca });
    let finished = false;
    const done = (o: Omit<Outcome, "ms">) => {
      if (finished) return;
      finished = true;
      s.removeAllListeners("data");
      resolve({ ...o, ms: Number(process.hrtime.bigint() - (sent || t0)) / 1e6 });
    };
    s.setTimeout(60000, () => { done({ ok: false, end: "silence for 60 s" }); s.destroy(); });
    s.on("error", (e) => done({ ok: false, end: e.message }));
    s.on("close", () => done({ ok: false, end: sent ? "closed after LOGIN without a reply" : `closed before the IMAP greeting${buffer ? ` (after "${buffer.trim()}")` : ""}` }));
    s.on("data", (b) => {
      buffer += b;
      if (!sent && /^\* OK/m.test(buffer)) {
        sent = process.hrtime.bigint();
        buffer = "";
        s.write(`a LOGIN "${user}" "${passwordOf(user)}"\r\n`);
      } else if (/^\* BYE.*$/m.test(buffer) && !/^a /m.test(buffer)) {
        done({ ok: false, end: /^\* BYE.*$/m.exec(buffer)![0].trim() });
      } else if (/^a (OK|NO|BAD).*$/m.test(buffer)) {
        const line = /^a (OK|NO|BAD).*$/m.exec(buffer)![0].trim();
        done({ ok: line.startsWith("a OK"), end: line, socket: s });
      }
    });
  });
}

/** A connection that reads the greeting and then sits there; resolves with what ends it. */
function idle(address: string, servername: string, ca: string): { greeted: Promise<boolean>; end: Promise<string>; socket: tls.TLSSocket } {
  const s = tls.connect({ host: address, port: 993, servername, ca });
  let buffer = "";
  let greet: (ok: boolean) => void = () => undefined;
  const greeted = new Promise<boolean>((r) => (greet = r));
  const end = new Promise<string>((resolve) => {
    s.on("error", (e) => { greet(false); resolve(e.message); });
    s.on("close", () => { greet(false); resolve(/^\* BYE.*$/m.exec(buffer)?.[0].trim() ?? "closed without a reply"); });
  });
  s.on("data", (b) => {
    buffer += b;
    if (/^\* OK/m.test(buffer)) greet(true);
  });
  return { greeted, end, socket: s };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function wave(p: ProvisionedHost, ca: string, count: number): Promise<Outcome[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => session(p.host.ipv4, p.hostname, ca, users[i % USERS])));
}

function report(label: string, outcomes: Outcome[]): number {
  const ok = outcomes.filter((o) => o.ok).map((o) => o.ms);
  const p95 = ok.length ? percentile(ok, 95) : NaN;
  const failures = new Map<string, number>();
  for (const o of outcomes.filter((x) => !x.ok)) failures.set(o.end, (failures.get(o.end) ?? 0) + 1);
  const latency = ok.length ? `login p50 ${percentile(ok, 50).toFixed(0)} ms, p95 ${p95.toFixed(0)} ms, max ${Math.max(...ok).toFixed(0)} ms` : "no login";
  console.log(`${label}: ${ok.length} of ${outcomes.length} logged in; ${latency}; failures: ${failures.size ? [...failures].map(([k, v]) => `${v}x "${k}"`).join(", ") : "none"}`);
  return p95;
}

/** `count` sessions started `perSecond` a second (a ramp, as clients arrive), all kept open. */
async function ramp(p: ProvisionedHost, ca: string, count: number, perSecond: number): Promise<Outcome[]> {
  const started: Array<Promise<Outcome>> = [];
  for (let i = 0; i < count; i++) {
    started.push(session(p.host.ipv4, p.hostname, ca, users[i % USERS]));
    if ((i + 1) % Math.max(1, Math.floor(perSecond / 10)) === 0) await new Promise((r) => setTimeout(r, 100));
  }
  return Promise.all(started);
}

async function main(): Promise<void> {
  const why = cannotBootHosts();
  if (why) throw new Error(`bench needs a real host: ${why}`);
  const stackBoxes = stackConfig("sandbox").mailboxes as string[];
  const all = [...stackBoxes, ...users, ...spare];
  const load: Record<string, Override> = {
    "mailfleet:mailboxes": { value: JSON.stringify(all) },
    "mailfleet:mailboxPasswords": { value: YAML.stringify(Object.fromEntries(all.map((u) => [u, passwordOf(u)]))), secret: true },
    // A limit the test machine can reach (its memory would allow several thousand): part 2.
    "mailfleet:imapMaxSessions": { value: "1000" },
  };
  const p = new ProvisionedHost("benchimap", 45, "sandbox", () => load);
  const open: tls.TLSSocket[] = [];
  try {
    if (p.first.code !== 0) throw new Error(`provisioning failed:\n${p.first.log.slice(-2000)}`);
    const ca = String(p.first.summary.outputs.certificatePem);
    const small = await wave(p, ca, 10);
    small.forEach((o) => o.socket?.end("z LOGOUT\r\n"));
    const p95small = report("10 concurrent IMAPS sessions", small);
    const burst = await wave(p, ca, 1000);
    const p95burst = report("1,000 IMAPS logins at the same moment", burst);
    burst.forEach((o) => o.socket?.end("z LOGOUT\r\n"));
    await new Promise((r) => setTimeout(r, 3000));
    const big = await ramp(p, ca, 1000, 100);
    big.forEach((o) => o.socket && open.push(o.socket));
    const p95big = report("1,000 concurrent IMAPS sessions, opened 100 a second and held", big);
    console.log(`login p95 ratio to 10 sessions: burst of 1,000 x${(p95burst / p95small).toFixed(1)}, 1,000 held x${(p95big / p95small).toFixed(1)}`);
    const held = open.length;
    const beyond = await Promise.all(Array.from({ length: 50 }, (_, i) => session(p.host.ipv4, p.hostname, ca, spare[i % spare.length])));
    beyond.forEach((o) => o.socket && open.push(o.socket));
    const t0 = Date.now();
    report(`50 more (as other mailboxes) with imapMaxSessions 1000 and ${held} sessions held`, beyond);
    console.log(`  (the last of them ended after ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    // Free 50 slots and fill them with connections that never log in; then 50 logins.
    open.splice(0, 50 + beyond.filter((o) => o.socket).length).forEach((s) => s.end("z LOGOUT\r\n"));
    await new Promise((r) => setTimeout(r, 2000));
    const idlers = Array.from({ length: 50 }, () => idle(p.host.ipv4, p.hostname, ca));
    const greeted = (await Promise.all(idlers.map((i) => i.greeted))).filter(Boolean).length;
    const newcomers = await Promise.all(Array.from({ length: 50 }, (_, i) => session(p.host.ipv4, p.hostname, ca, spare[i % spare.length])));
    newcomers.forEach((o) => o.socket && open.push(o.socket));
    report(`50 logins with the slots full (${greeted} of them held by connections that never log in)`, newcomers);
    const told = new Map<string, number>();
    await Promise.race([Promise.all(idlers.map(async (i) => { const e = await i.end; told.set(e, (told.get(e) ?? 0) + 1); })), new Promise((r) => setTimeout(r, 15000))]);
    const still = 50 - [...told.values()].reduce((a, b) => a + b, 0);
    console.log(`  the idle connections: ${[...told].map(([k, v]) => `${v}x "${k}"`).join(", ") || "none ended"}${still ? `, ${still} still open` : ""}`);
    idlers.forEach((i) => i.socket.destroy());
  } finally {
    open.forEach((s) => s.destroy());
    p.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
