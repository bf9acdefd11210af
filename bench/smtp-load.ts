// Benchmark: SMTP under load on a real Debian 12 test host with smtpdMaxProcesses 100 (so the
// per-address share on port 25 is 10), clients coming from extra addresses on the test bridge.
//   npm run bench:smtp       (root; boots its own host "benchsmtp" and removes it afterwards)
// 1. Slow senders on port 25 (connect, EHLO, then silence), from many addresses: 50, then 100
//    (every process), then 150: what the extra connections get, and how long a legitimate
//    sender from another address waits for its banner and a complete transaction, as a ratio to
//    an idle host measured in the same run.
// 2. One address opening 60 sessions on port 25: how many it gets, what the rest are told.
// 3. Password guessing on 587 from one address (its 10 sessions, wrong passwords, back to back)
//    with the stack's default AUTH rate limit and with none, at 100,000 hash rounds: what the
//    attacker gets, and the login latency and failures of customers from ten other addresses
//    (about 4 logins a second in all), as a ratio to the same logins without the attack.
// 4. Password checks a second through Dovecot's auth socket (what Postfix uses), 8 clients for
//    10 s, at 100,000 rounds, with one auth worker and with one per core (the rule): the ratio
//    is how the login rate grows with cores (bench/auth-rate.pl runs on the host).
// Prints figures, asserts nothing.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as net from "net";
import * as tls from "tls";
import { ProvisionedHost } from "../test/tools/provisioned";
import { Override } from "../test/tools/stack-run";
import { cannotBootHosts, sshOk } from "../test/tools/testhost";

const ATTACK_SECONDS = 30;

/** A line-oriented SMTP client over a socket that can switch to TLS. */
class Smtp {
  private buffer = "";
  private waiting?: (line: string) => void;
  private ended = "";

  private constructor(private socket: net.Socket) {
    this.listen(socket);
  }

  /** Connects and reads the banner, waiting `bannerMs` for it; after that the session may idle. */
  static open(address: string, port: number, localAddress: string, bannerMs = 60000): Promise<{ smtp: Smtp; banner: string }> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: address, port, localAddress });
      socket.setTimeout(bannerMs, () => socket.destroy(new Error(`no banner for ${bannerMs / 1000} s`)));
      const smtp = new Smtp(socket);
      smtp.reply().then((banner) => {
        socket.setTimeout(0);
        resolve({ smtp, banner });
      });
    });
  }

  private listen(s: net.Socket): void {
    s.on("data", (b) => {
      this.buffer += b.toString();
      this.deliver();
    });
    s.on("error", (e) => (this.ended ||= e.message));
    s.on("close", () => {
      this.ended ||= "closed without a reply";
      this.deliver();
    });
  }

  private deliver(): void {
    if (!this.waiting) return;
    // A complete reply: its last line has a space after the code.
    const m = /^(\d{3}) .*\r\n/m.exec(this.buffer);
    if (m) {
      const end = m.index + m[0].length;
      const text = this.buffer.slice(0, end).trim().split("\r\n").pop()!;
      this.buffer = this.buffer.slice(end);
      const w = this.waiting;
      this.waiting = undefined;
      w(text);
    } else if (this.ended) {
      const w = this.waiting;
      this.waiting = undefined;
      w(this.ended);
    }
  }

  reply(): Promise<string> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.deliver();
    });
  }

  async send(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  async starttls(servername: string, ca: string): Promise<string> {
    const r = await this.send("STARTTLS");
    if (!r.startsWith("220")) return r;
    const plain = this.socket;
    plain.removeAllListeners("data");
    this.socket = tls.connect({ socket: plain, servername, ca });
    this.listen(this.socket);
    await new Promise<void>((resolve) => (this.socket as tls.TLSSocket).once("secureConnect", () => resolve()));
    return r;
  }

  close(): void {
    this.socket.destroy();
  }
}

function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
}

function count(lines: string[]): string {
  const m = new Map<string, number>();
  for (const l of lines) {
    const key = l.replace(/from \S+$/, "from ADDRESS").replace(/\[[0-9.]+\]/g, "[ADDRESS]").slice(0, 70);
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return [...m].map(([k, v]) => `${v}x "${k}"`).join(", ");
}

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

/** A legitimate sender: banner wait, then EHLO / MAIL / RCPT / DATA / QUIT to a hosted mailbox. */
async function legitimateSend(p: ProvisionedHost, from: string, to: string): Promise<{ banner: number; total: number; outcome: string }> {
  const t0 = process.hrtime.bigint();
  const { smtp, banner } = await Smtp.open(p.host.ipv4, 25, from);
  const bannerMs = ms(t0);
  let outcome = banner;
  if (banner.startsWith("220")) {
    for (const line of ["EHLO sender.bench.test", "MAIL FROM:<someone@sender.bench.test>", `RCPT TO:<${to}>`, "DATA"]) {
      outcome = await smtp.send(line);
      if (!/^[23]/.test(outcome)) break;
    }
    if (outcome.startsWith("354")) outcome = await smtp.send("Subject: bench\r\n\r\nload test\r\n.");
    await smtp.send("QUIT");
  }
  smtp.close();
  return { banner: bannerMs, total: ms(t0), outcome };
}

/** Slow senders: connect, EHLO, then say nothing; `perAddress` sessions from each address. */
async function slowSenders(p: ProvisionedHost, addresses: string[], perAddress: number): Promise<{ held: Smtp[]; replies: string[] }> {
  const opened = await Promise.all(addresses.flatMap((a) => Array.from({ length: perAddress }, () => Smtp.open(p.host.ipv4, 25, a, 20000))));
  const replies: string[] = [];
  for (const o of opened) {
    replies.push(o.banner);
    if (o.banner.startsWith("220")) o.smtp.send("EHLO slow.bench.test").catch(() => undefined);
  }
  return { held: opened.map((o) => o.smtp), replies };
}

/** One login on 587: STARTTLS, AUTH PLAIN, QUIT; the reply to AUTH and its milliseconds. */
async function login(p: ProvisionedHost, ca: string, from: string, user: string, password: string): Promise<{ ms: number; reply: string }> {
  const t0 = process.hrtime.bigint();
  const { smtp, banner } = await Smtp.open(p.host.ipv4, 587, from);
  let reply = banner;
  if (banner.startsWith("220")) {
    await smtp.send("EHLO client.bench.test");
    reply = await smtp.starttls(p.hostname, ca);
    if (reply.startsWith("220")) {
      await smtp.send("EHLO client.bench.test");
      reply = await smtp.send(`AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString("base64")}`);
      smtp.send("QUIT").catch(() => undefined);
    }
  }
  smtp.close();
  return { ms: ms(t0), reply };
}

/** Customers logging in on 587, one after another, each from the next of `from` (under the AUTH rate limit per address). */
async function customers(p: ProvisionedHost, ca: string, from: string[], seconds: number): Promise<Array<{ ms: number; reply: string }>> {
  const users = Object.keys(p.passwords);
  const out: Array<{ ms: number; reply: string }> = [];
  const stop = Date.now() + seconds * 1000;
  for (let i = 0; Date.now() < stop; i++) {
    const user = users[i % users.length];
    out.push(await login(p, ca, from[i % from.length], user, p.passwords[user]));
    await new Promise((r) => setTimeout(r, 250));
  }
  return out;
}

async function attacker(p: ProvisionedHost, ca: string, from: string, sessions: number, seconds: number): Promise<string[]> {
  const users = Object.keys(p.passwords);
  const replies: string[] = [];
  const stop = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: sessions }, async (_, s) => {
    for (let i = 0; Date.now() < stop; i++) replies.push((await login(p, ca, from, users[(s + i) % users.length], `guess-${s}-${i}`)).reply);
  }));
  return replies;
}

function describeLogins(label: string, logins: Array<{ ms: number; reply: string }>, base?: number): number {
  const ok = logins.filter((l) => l.reply.startsWith("235")).map((l) => l.ms);
  const p95 = percentile(ok, 95);
  const failed = logins.filter((l) => !l.reply.startsWith("235")).map((l) => l.reply);
  console.log(`  ${label}: ${ok.length} of ${logins.length} logged in, p50 ${percentile(ok, 50).toFixed(0)} ms, p95 ${p95.toFixed(0)} ms, max ${Math.max(...ok).toFixed(0)} ms${base ? ` (p95 x${(p95 / base).toFixed(1)} of no attack)` : ""}; failures: ${failed.length ? count(failed) : "none"}`);
  return p95;
}

function here(command: string): void {
  const r = spawnSync("bash", ["-c", command], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${command}: ${r.stderr}`);
}

async function main(): Promise<void> {
  const why = cannotBootHosts();
  if (why) throw new Error(`bench needs a real host: ${why}`);
  const settings: Record<string, Override> = {
    "mailfleet:smtpdMaxProcesses": { value: "100" },
    "mailfleet:passwordHashRounds": { value: "100000" },
    "mailfleet:authRateLimitPerMinute": { value: "30" },
  };
  const p = new ProvisionedHost("benchsmtp", 47, "sandbox", () => settings);
  const prefix = p.host.gateway4.replace(/\.\d+$/, "");
  const dev = spawnSync("bash", ["-c", `ip -o -4 addr show | awk '$4 ~ /^${p.host.gateway4.replace(/\./g, "\\.")}\\// {print $2}'`], { encoding: "utf8" }).stdout.trim();
  const extra = Array.from({ length: 17 }, (_, i) => `${prefix}.${200 + i}`);
  const [legit, flood, ...slow] = extra;
  const held: Smtp[] = [];
  try {
    if (p.first.code !== 0) throw new Error(`provisioning failed:\n${p.first.log.slice(-2000)}`);
    for (const a of extra) here(`ip addr add ${a}/32 dev ${dev}`);
    const ca = String(p.first.summary.outputs.certificatePem);
    const to = Object.keys(p.passwords)[0];

    console.log("1. slow senders on port 25 (10 per address; 100 smtpd processes)");
    const idle = await legitimateSend(p, legit, to);
    console.log(`  idle host: banner ${idle.banner.toFixed(0)} ms, transaction ${idle.total.toFixed(0)} ms (${idle.outcome})`);
    for (const addresses of [5, 10, 15]) {
      const s = await slowSenders(p, slow.slice(0, addresses), 10);
      held.push(...s.held);
      const l = await legitimateSend(p, legit, to);
      console.log(`  ${addresses * 10} slow sessions (${count(s.replies)}): legitimate sender's banner after ${l.banner.toFixed(0)} ms (x${(l.banner / idle.banner).toFixed(1)}), transaction ${l.total.toFixed(0)} ms (x${(l.total / idle.total).toFixed(1)}): ${l.outcome}`);
      held.splice(0).forEach((h) => h.close());
      await new Promise((r) => setTimeout(r, 2000));
    }

    console.log("2. one address opening 60 sessions on port 25");
    const f = await slowSenders(p, [flood], 60);
    const l2 = await legitimateSend(p, legit, to);
    console.log(`  it got: ${count(f.replies)}; another address meanwhile: banner after ${l2.banner.toFixed(0)} ms, ${l2.outcome}`);
    f.held.forEach((h) => h.close());

    console.log(`3. password guessing on 587 from one address, 10 sessions for ${ATTACK_SECONDS} s, 100,000 rounds`);
    // Customers come from ten addresses (the slow senders' of part 1), each under the rate limit.
    const offices = slow.slice(0, 10);
    await customers(p, ca, offices, 5); // every customer logged in once: the cache is warm
    const quiet = describeLogins("customers without an attack", await customers(p, ca, offices, 15));
    for (const [label, limit] of [["AUTH rate limit 30 a minute (the default)", "30"], ["no AUTH rate limit", "0"]] as const) {
      if (limit !== "30") {
        const r = p.up({ ...settings, "mailfleet:authRateLimitPerMinute": { value: limit } });
        if (r.code !== 0) throw new Error(`up failed: ${r.log.slice(-2000)}`);
      }
      const [att, cust] = await Promise.all([attacker(p, ca, flood, 10, ATTACK_SECONDS), customers(p, ca, offices, ATTACK_SECONDS)]);
      console.log(` ${label}:`);
      console.log(`  the attacker: ${att.length} AUTH attempts: ${count(att)}`);
      describeLogins("customers from other addresses", cust, quiet);
      await new Promise((r) => setTimeout(r, 61000)); // anvil's minute, so the next part starts clean
    }

    const cores = Number(sshOk(p.host, "nproc").trim());
    console.log(`4. password checks a second through Dovecot's auth socket, 8 clients, 100,000 rounds, ${cores} cores`);
    sshOk(p.host, "cat > /root/auth-rate.pl", fs.readFileSync(path.join(__dirname, "auth-rate.pl"), "utf8"));
    const [user] = Object.keys(p.passwords);
    const rate: Record<number, number> = {};
    for (const workers of [1, cores]) {
      sshOk(p.host, `sed -i 's/^auth_worker_max_count = .*/auth_worker_max_count = ${workers}/' /etc/dovecot/dovecot.conf && doveadm reload && sleep 1`);
      const out = sshOk(p.host, "perl /root/auth-rate.pl 8 10", `${user}\t${p.passwords[user]}\n`);
      const ok = Number(/ok (\d+)/.exec(out)?.[1] ?? NaN);
      rate[workers] = ok / 10;
      console.log(`  ${workers} auth worker${workers > 1 ? "s" : ""}: ${rate[workers].toFixed(1)} checks a second (${out.trim()})`);
    }
    console.log(`  ${cores} workers / 1: x${(rate[cores] / rate[1]).toFixed(2)}`);
  } finally {
    held.forEach((h) => h.close());
    for (const a of extra) spawnSync("bash", ["-c", `ip addr del ${a}/32 dev ${dev}`]);
    p.stop();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
