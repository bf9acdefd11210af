// Benchmark: whole `up` runs (program, engine double, every step over SSH) on one real Debian 12
// test host as it grows to 1, 100, 1,000 and 10,000 mailboxes: the run that adds them, a run
// with nothing changed, one mailbox added, one password changed. Each figure is also given as a
// ratio to the 1-mailbox size of the same run, and the steps that took the time are named.
//   npm run bench:scale      (root; boots its own host "benchscale" and removes it afterwards)
// Password rounds: the sandbox stack's. Prints figures, asserts nothing.
import * as YAML from "yaml";
import { ProvisionedHost } from "../test/tools/provisioned";
import { Override, StackRun, stackConfig } from "../test/tools/stack-run";
import { cannotBootHosts } from "../test/tools/testhost";

const SIZES = [1, 100, 1000, 10000];

function mailboxes(n: number, changedFirst = false, extra?: string): Record<string, Override> {
  const own = stackConfig("sandbox").mailboxes as string[];
  const load = Array.from({ length: n }, (_, i) => `u${i}@example.test`);
  if (extra) load.push(extra);
  const passwords: Record<string, string> = {};
  for (const m of load) passwords[m] = changedFirst && m === load[0] ? "a-changed-password-1" : `password-of-${m}`;
  return {
    "mailfleet:mailboxes": { value: JSON.stringify([...own, ...load]) },
    // The stack's own mailboxes keep the passwords the host was provisioned with.
    "mailfleet:mailboxPasswords": { value: YAML.stringify(passwords), secret: true },
  };
}

interface Timed {
  wall: number;
  run: StackRun;
}

function timed(p: ProvisionedHost, extra: Record<string, Override>): Timed {
  const t0 = process.hrtime.bigint();
  const run = p.up(extra);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (run.code !== 0) throw new Error(`up failed:\n${run.log.slice(-3000)}`);
  return { wall, run };
}

/** The steps that ran, slowest first, with their seconds. */
function steps(t: Timed): string {
  const ops = t.run.summary.operations.filter((o) => o.op !== "same").sort((a, b) => b.seconds - a.seconds);
  return ops.length ? ops.slice(0, 3).map((o) => `${o.name} ${o.seconds.toFixed(2)} s`).join(", ") : "no step ran";
}

function main(): void {
  const why = cannotBootHosts();
  if (why) throw new Error(`bench needs a real host: ${why}`);
  const p = new ProvisionedHost("benchscale", 46);
  try {
    if (p.first.code !== 0) throw new Error(`provisioning failed:\n${p.first.log.slice(-2000)}`);
    const withOwn = (o: Record<string, Override>): Record<string, Override> => {
      const pw = { ...p.passwords, ...YAML.parse(o["mailfleet:mailboxPasswords"].value) };
      return { ...o, "mailfleet:mailboxPasswords": { value: YAML.stringify(pw), secret: true } };
    };
    const rows: Array<{ n: number; grow: number; same: number; add: number; change: number }> = [];
    for (const n of SIZES) {
      const grow = timed(p, withOwn(mailboxes(n)));
      const same = timed(p, withOwn(mailboxes(n)));
      const add = timed(p, withOwn(mailboxes(n, false, `new${n}@example.test`)));
      const change = timed(p, withOwn(mailboxes(n, true, `new${n}@example.test`)));
      console.log(`${String(n).padStart(6)} mailboxes:`);
      console.log(`    up that adds them     ${grow.wall.toFixed(1).padStart(6)} s   ${steps(grow)}`);
      console.log(`    up, nothing changed   ${same.wall.toFixed(1).padStart(6)} s   ${steps(same)}, ${same.run.summary.sshSessions} SSH`);
      console.log(`    up, +1 mailbox        ${add.wall.toFixed(1).padStart(6)} s   ${steps(add)}`);
      console.log(`    up, 1 password        ${change.wall.toFixed(1).padStart(6)} s   ${steps(change)}`);
      rows.push({ n, grow: grow.wall, same: same.wall, add: add.wall, change: change.wall });
    }
    const base = rows[0];
    for (const r of rows.slice(1)) {
      console.log(`${String(r.n).padStart(6)} vs 1 mailbox: nothing changed x${(r.same / base.same).toFixed(2)}, +1 mailbox x${(r.add / base.add).toFixed(2)}, 1 password x${(r.change / base.change).toFixed(2)}`);
    }
  } finally {
    p.stop();
  }
}

main();
