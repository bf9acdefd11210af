// Benchmark: mailfleet-users on a real Debian 12 test host for 1, 100, 1,000 and 10,000 mailboxes:
// the first run (every password hashed), a run with nothing changed, one mailbox added, one
// password changed. Each figure is also given as a ratio to the 1-mailbox host of the same run.
//   npm run bench:users      (root; boots its own host "benchusers" and removes it afterwards)
// Rounds: 5,000 (the minimum) so the first runs stay short; the later runs do not depend on the
// rounds of the kept hashes, only on one new hash each. Prints figures, asserts nothing.
import { ProvisionedHost } from "../test/tools/provisioned";
import { cannotBootHosts, ssh, TestHost } from "../test/tools/testhost";

const SIZES = [1, 100, 1000, 10000];
const ROUNDS = 5000;

function list(n: number, extra = "", changeFirst = false): string {
  const lines = Array.from({ length: n }, (_, i) => `u${i}@example.test\t${changeFirst && i === 0 ? "a-changed-password" : `password-of-u${i}`}`);
  if (extra) lines.push(extra);
  return `${lines.join("\n")}\n@@done ${lines.length}\n`;
}

/** Seconds of one mailfleet-users run on the host, and its report line. */
function run(host: TestHost, file: string, input: string): { seconds: number; report: string } {
  const t0 = process.hrtime.bigint();
  const r = ssh(host, `/usr/local/sbin/mailfleet-users ${ROUNDS} ${file}`, input, 30 * 60 * 1000);
  if (r.code !== 0) throw new Error(`mailfleet-users failed: ${r.stderr}`);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, report: r.stdout.trim().split("\n")[0] };
}

function main(): void {
  const why = cannotBootHosts();
  if (why) throw new Error(`bench needs a real host: ${why}`);
  const p = new ProvisionedHost("benchusers", 44);
  try {
    if (p.first.code !== 0) throw new Error(`provisioning failed:\n${p.first.log.slice(-2000)}`);
    const rows: Array<{ n: number; first: number; same: number; add: number; change: number }> = [];
    for (const n of SIZES) {
      const file = `/var/tmp/bench-users-${n}`;
      const first = run(p.host, file, list(n));
      const same = run(p.host, file, list(n));
      const add = run(p.host, file, list(n, `new${n}@example.test\tpassword-of-new`));
      const change = run(p.host, file, list(n, `new${n}@example.test\tpassword-of-new`, true));
      console.log(`${String(n).padStart(6)} mailboxes: first ${first.seconds.toFixed(2)} s, unchanged ${same.seconds.toFixed(2)} s (${same.report}), +1 mailbox ${add.seconds.toFixed(2)} s, 1 password changed ${change.seconds.toFixed(2)} s (${change.report})`);
      rows.push({ n, first: first.seconds, same: same.seconds, add: add.seconds, change: change.seconds });
    }
    const base = rows[0];
    for (const r of rows.slice(1)) {
      console.log(`${String(r.n).padStart(6)} vs 1 mailbox: unchanged x${(r.same / base.same).toFixed(1)}, +1 mailbox x${(r.add / base.add).toFixed(1)}, 1 password changed x${(r.change / base.change).toFixed(1)}`);
    }
  } finally {
    p.stop();
  }
}

main();
