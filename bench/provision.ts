// Benchmark: provisioning a fresh Debian 12 test host from the sandbox stack, and IMAP logins.
//   npm run bench            (root; boots its own host "bench" and removes it afterwards)
// Prints figures, asserts nothing. Targets (issue 2): our own steps take at most half the package
// step; an unchanged re-run opens no SSH session; a virtual-user IMAP LOGIN takes under 100 ms.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as tls from "tls";
import { generatePasswords, hostOverrides, runStack, StackRun, stackConfig } from "../test/tools/stack-run";
import { cannotBootHosts, sshOk, startHost, stopHost, TestHost } from "../test/tools/testhost";

const STACK = "sandbox";

function timed(f: () => StackRun): { run: StackRun; wall: number } {
  const t0 = process.hrtime.bigint();
  const run = f();
  return { run, wall: Number(process.hrtime.bigint() - t0) / 1e9 };
}

/** Milliseconds from sending `a LOGIN` to its tagged OK, on an already-open IMAPS connection. */
function imapLogin(host: TestHost, servername: string, ca: string, user: string, password: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: host.ipv4, port: 993, servername, ca }, () => undefined);
    let buffer = "";
    let sent = 0n;
    socket.setEncoding("utf8");
    socket.setTimeout(10000, () => reject(new Error("IMAP timeout")));
    socket.on("error", reject);
    socket.on("data", (chunk: string) => {
      buffer += chunk;
      if (sent === 0n && buffer.includes("* OK")) {
        buffer = "";
        sent = process.hrtime.bigint();
        socket.write(`a LOGIN "${user}" "${password}"\r\n`);
      } else if (sent !== 0n && /^a (OK|NO|BAD)/m.test(buffer)) {
        const ms = Number(process.hrtime.bigint() - sent) / 1e6;
        socket.end("b LOGOUT\r\n");
        if (!/^a OK/m.test(buffer)) reject(new Error(buffer.trim()));
        else resolve(ms);
      }
    });
  });
}

function stats(values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return `median ${q(0.5).toFixed(1)} ms, p90 ${q(0.9).toFixed(1)} ms, min ${s[0].toFixed(1)} ms (n=${s.length})`;
}

async function main(): Promise<void> {
  const why = cannotBootHosts();
  if (why) throw new Error(`the benchmark ${why}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailfleet-bench-"));
  const hostname = String(stackConfig(STACK).hostname);
  const host = startHost("bench", { fqdn: hostname, index: 41 });
  try {
    const passwords = generatePasswords(STACK);
    const overrides = hostOverrides(host, passwords);
    const state = path.join(dir, "state.json");

    const fresh = timed(() => runStack("up", STACK, overrides, state));
    if (fresh.run.code !== 0) throw new Error(`provisioning failed:\n${fresh.run.log}`);
    const ops = fresh.run.summary.operations;
    const pkg = ops.find((o) => o.name === "mail-host-packages")!.seconds;
    const own = ops.filter((o) => o.name !== "mail-host-packages").reduce((a, o) => a + o.seconds, 0);
    console.log("fresh host, first run");
    console.log(`  wall time               ${fresh.wall.toFixed(1)} s`);
    console.log(`  package step (floor)    ${pkg.toFixed(1)} s   apt-get install of ${"postfix dovecot-* libsasl2-modules"} (debs preloaded)`);
    console.log(`  our own steps           ${own.toFixed(1)} s   (${(own / pkg * 100).toFixed(0)}% of the package step; target <= 50%)`);
    for (const o of ops) console.log(`    ${o.name.padEnd(22)} ${o.seconds.toFixed(2)} s  ${o.sshSessions} SSH`);
    console.log(`  engine + program        ${(fresh.wall - pkg - own).toFixed(1)} s   (Node start, @pulumi/pulumi load, mocks)`);
    console.log(`  SSH sessions            ${fresh.run.summary.sshSessions}`);

    const again = timed(() => runStack("up", STACK, overrides, state));
    console.log("unchanged re-run");
    console.log(`  wall time               ${again.wall.toFixed(1)} s`);
    console.log(`  SSH sessions            ${again.run.summary.sshSessions}   (target: 0, as with pulumi up: no input changed)`);
    console.log(`  operations              ${[...new Set(again.run.summary.operations.map((o) => o.op))].join(", ")}`);

    const ca = String(fresh.run.summary.outputs.certificatePem);
    const user = Object.keys(passwords)[0];
    const logins = async (n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push(await imapLogin(host, hostname, ca, user, passwords[user]));
      return out;
    };
    await logins(2);
    console.log("IMAP LOGIN over IMAPS (time from LOGIN to OK; TLS handshake excluded)");
    console.log(`  SHA512-CRYPT rounds=5000 (sandbox)   ${stats(await logins(20))}`);
    const input = `${Object.entries(passwords).map(([a, p]) => `${a}\t${p}\n`).join("")}@@done ${Object.keys(passwords).length}\n`;
    sshOk(host, "/usr/local/sbin/mailfleet-users 100000", input);
    await logins(2);
    console.log(`  SHA512-CRYPT rounds=100000 (default) ${stats(await logins(20))}   (target < 100 ms)`);
    console.log(`  passdb chain: ${sshOk(host, "doveconf -h passdb/0/driver 2>/dev/null || doveconf -n | grep -A2 'passdb {' | grep driver").trim() || "see doveconf -n"}`);
  } finally {
    stopHost("bench");
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench: ${(err as Error).message}`);
  process.exit(1);
});
