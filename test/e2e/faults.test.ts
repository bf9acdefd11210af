// Faults during an apply, on a real Debian 12 host provisioned from the sandbox stack: a reload
// that fails, SIGTERM/SIGHUP/SIGINT/SIGKILL at several points of a run, and a lost SSH session.
// Proves: after each fault either the previous files are live (and consistent with their .db) or
// the next run finishes the change; a run that reports "interrupted" has restored the previous
// files; nothing a run stages or backs up (old keys, passwords) is left behind after the next
// run; the daemon keeps running. Does not prove: behaviour across a host reboot mid-run, or
// faults inside the Pulumi engine itself.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { ProvisionedHost } from "../tools/provisioned";
import { ssh, sshOk, TestHost } from "../tools/testhost";

const why = process.getuid?.() !== 0 ? "needs root (network namespaces, systemd-nspawn)" : undefined;
if (why && process.env.MAILFLEET_E2E === "require") throw new Error(`fault tests cannot run: ${why}`);

const PROBE = "fault-probe@example.test";

describe("faults during an apply", { skip: why }, () => {
  let p: ProvisionedHost;
  let host: TestHost;
  let bundleA = "";
  let bundleB = "";

  const sshArgs = (h: TestHost, command: string) => [
    "-i", h.sshKey, "-o", `UserKnownHostsFile=${h.knownHosts}`, "-o", "StrictHostKeyChecking=yes",
    "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", `${h.sshUser}@${h.ipv4}`, command,
  ];
  const file = (path: string) => sshOk(host, `cat ${path}`);
  // The test's bundles have a name of their own: a bundle is the whole set of files for its name,
  // and applying a partial one as "postfix" would remove the other Postfix files.
  const apply = (bundle: string) => ssh(host, "/usr/local/sbin/mailfleet-apply postfix faults", bundle);

  /** The virtual map as live text, whether its .db answers for the probe address, the pending marker. */
  const state = () => {
    const out = sshOk(host, `cat /etc/postfix/virtual; echo @@; postmap -q ${PROBE} hash:/etc/postfix/virtual >/dev/null && echo db; test -e /var/lib/mailfleet/postfix-faults.pending && echo pending; true`);
    const [text, flags] = out.split("@@\n");
    return { text, db: /^db$/m.test(flags), pending: /^pending$/m.test(flags) };
  };

  /** Points of a run, as seen on the host: files staged, swap begun, reload hook running. */
  const POINTS = {
    staged: "test -e /etc/postfix/.virtual.mailfleet-new",
    swapping: "test -e /var/lib/mailfleet/postfix-faults.pending",
    // "[/]": the pattern must not match the watcher's own command line.
    reloading: "pgrep -f '[/]etc/mailfleet/reload.d/postfix' >/dev/null",
  };
  type Point = keyof typeof POINTS;

  /**
   * Runs an apply of B while a watcher on the host waits for `point`, then `hit`s the run (the
   * watcher's own action on the host, or the returned callback for the local ssh client).
   */
  const interrupted = async (point: Point, onHost: string | undefined, local?: (child: ReturnType<typeof spawn>) => void) => {
    // "[u]sr": the pattern must not match the watcher's own command line.
    const watch = `for i in $(seq 1 4000); do if ${POINTS[point]}; then ${onHost ?? ":"}; echo hit; exit 0; fi; sleep 0.005; done; echo missed; exit 1`;
    const watcher = spawn("ssh", sshArgs(host, watch), { stdio: ["ignore", "pipe", "inherit"] });
    const hit = new Promise<boolean>((resolve) => {
      let out = "";
      watcher.stdout.on("data", (d) => (out += d));
      watcher.on("close", () => resolve(out.includes("hit")));
    });
    await new Promise((r) => setTimeout(r, 400));
    const child = spawn("ssh", sshArgs(host, "/usr/local/sbin/mailfleet-apply postfix faults"), { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.stdout.resume();
    child.stdin.end(bundleB);
    const closed = new Promise<number | null>((resolve) => child.on("close", resolve));
    const wasHit = await hit;
    if (wasHit && local) local(child);
    const code = await closed;
    return { code, stderr, wasHit };
  };

  const waitApplyGone = () => {
    for (let i = 0; i < 100; i++) {
      if (ssh(host, "pgrep -f '[u]sr/local/sbin/mailfleet-apply'").code !== 0) return;
      spawnSync("sleep", ["0.1"]);
    }
    throw new Error("mailfleet-apply still running 10 s after the fault");
  };

  /** The next run must finish the change and leave nothing behind; then back to A. */
  const recoverAndReset = (label: string) => {
    const r = apply(bundleB);
    assert.equal(r.code, 0, `${label}: the next run failed: ${r.stderr}`);
    const s = state();
    assert.equal(s.text, textOf(bundleB), `${label}: the next run did not finish the change`);
    assert.ok(s.db && !s.pending, `${label}: .db or pending marker wrong after the next run`);
    assert.equal(sshOk(host, "ls -d /run/mailfleet-apply.*/ 2>/dev/null | wc -l").trim(), "0", `${label}: a work directory (old files) was left in /run`);
    assert.equal(sshOk(host, "find /etc/postfix -name '*.mailfleet-new*' | wc -l").trim(), "0", `${label}: staged files were left in /etc/postfix`);
    assert.equal(sshOk(host, "systemctl is-active postfix@-").trim(), "active", label);
    assert.equal(apply(bundleA).code, 0, `${label}: reset to A failed`);
  };

  const textOf = (bundle: string) => /@@file \/etc\/postfix\/virtual [^\n]*\n([\s\S]*?)@@end\n/.exec(bundle)![1];

  before(() => {
    // A fresh VM as unattended-upgrades leaves it at first boot: debconf's database locked for a
    // while, and a dpkg run that was cut off (an update record dpkg has not merged yet).
    p = new ProvisionedHost("faults", 35, "sandbox", (h) => {
      sshOk(h, "systemd-run --unit=hold-debconf flock /var/cache/debconf/config.dat sleep 15 && touch /var/lib/dpkg/updates/0000");
    });
    host = p.host;
    const virtual = file("/etc/postfix/virtual");
    // B adds an alias and a main.cf comment, so the run swaps a map and its .db and reloads.
    const mainCf = file("/etc/postfix/main.cf");
    bundleA = `@@file /etc/postfix/virtual 0644 root root postmap\n${virtual}@@end\n@@file /etc/postfix/main.cf 0644 root root plain\n${mainCf}@@end\n@@done 2\n`;
    bundleB = `@@file /etc/postfix/virtual 0644 root root postmap\n${virtual}${PROBE}  bob@example.test\n@@end\n@@file /etc/postfix/main.cf 0644 root root plain\n${mainCf}# fault test\n@@end\n@@done 2\n`;
  });

  after(() => p?.stop());

  it("provisions a fresh host whose debconf database is locked and whose dpkg run was cut off", () => {
    assert.equal(p.first.code, 0, p.first.log);
    const packages = p.first.summary.operations.find((o) => o.name === "mail-host-packages");
    assert.ok(packages && packages.seconds >= 5, "the package step did not wait for the debconf lock");
    assert.equal(sshOk(host, "ls /var/lib/dpkg/updates | wc -l").trim(), "0");
  });

  it("fails on a reload that does not come back and restores the previous files and daemon", () => {
    const before = sshOk(host, "sha256sum /etc/postfix/master.cf");
    // Accepted by postconf and postfix check, but another process holds port 2526: the master
    // cannot open the new listener on reload and exits.
    sshOk(host, "systemd-run --unit=squat-2526 perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(LocalPort => 2526, Listen => 1, ReuseAddr => 1) or die; sleep 600'"
      + " && for i in $(seq 1 50); do grep -qi ':09DE 00000000:0000 0A' /proc/net/tcp && break; sleep 0.1; done");
    const masterCf = `${file("/etc/postfix/master.cf")}2526      inet  n       -       y       -       -       smtpd\n`;
    const r = apply(`@@file /etc/postfix/master.cf 0644 root root plain\n${masterCf}@@end\n@@done 1\n`);
    sshOk(host, "systemctl stop squat-2526");
    assert.equal(r.code, 1, `the apply did not fail: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /postfix did not come back after the change; the previous files are restored/);
    assert.equal(sshOk(host, "sha256sum /etc/postfix/master.cf"), before);
    const state = ssh(host, "for i in $(seq 1 50); do systemctl is-active --quiet postfix@- && break; sleep 0.1; done; systemctl is-active postfix@-; journalctl -q --no-pager -u postfix@- -n 15 -o short");
    assert.match(state.stdout, /^active\n/, `Postfix is not running after the rollback:\n${state.stdout}`);
    assert.equal(ssh(host, "test -e /var/lib/mailfleet/postfix-faults.pending").code, 1);
    assert.equal(sshOk(host, "find /etc/postfix -name '*.mailfleet-new*' | wc -l").trim(), "0");
  });

  // SIGTERM goes to the run's process alone (kill PID); SIGHUP to its whole process group, as a
  // hung-up terminal or Ctrl-C does: then the command running at that moment (cp, mv, the reload
  // hook) dies of it too, and its failure may reach the run before the run's own trap does.
  const KILL = {
    TERM: "pkill -TERM -of '[u]sr/local/sbin/mailfleet-apply'",
    HUP: "kill -HUP -- -$(ps -o pgid= -p $(pgrep -of '[u]sr/local/sbin/mailfleet-apply') | tr -d ' ')",
  };
  for (const signal of ["TERM", "HUP"] as const) {
    it(`rolls back or completes, never half-done, on SIG${signal} at each point of a run`, async () => {
      const outcomes: string[] = [];
      for (const point of Object.keys(POINTS) as Point[]) {
        const label = `SIG${signal} when ${point}`;
        const seen = await interrupted(point, KILL[signal]);
        assert.ok(seen.wasHit, `${label}: the run never reached that point`);
        waitApplyGone();
        const s = state();
        assert.ok(!s.pending, `${label}: a caught signal must not leave the change pending`);
        assert.equal(s.db, s.text.includes(PROBE), `${label}: virtual.db disagrees with its text`);
        if (seen.code === 0) {
          assert.equal(s.text, textOf(bundleB), `${label}: exit 0 without the new files`);
          outcomes.push(`${point}: completed`);
        } else {
          assert.equal(s.text, textOf(bundleA), `${label}: failed run (${seen.stderr.trim()}) left the new files live`);
          outcomes.push(`${point}: ${/interrupted by SIG/.test(seen.stderr) ? "rolled back" : "stopped before the swap"}`);
        }
        assert.equal(sshOk(host, "systemctl is-active postfix@-").trim(), "active", label);
        recoverAndReset(label);
      }
      // A signal during the swap or the reload is acted on: the previous files come back.
      assert.deepEqual(outcomes.slice(1), ["swapping: rolled back", "reloading: rolled back"], outcomes.join(", "));
    });
  }

  it("leaves the change pending after SIGKILL during the swap or reload, and the next run finishes it", async () => {
    const outcomes: string[] = [];
    for (const point of Object.keys(POINTS) as Point[]) {
      const label = `SIGKILL when ${point}`;
      const seen = await interrupted(point, "pkill -KILL -f '[u]sr/local/sbin/mailfleet-apply'");
      assert.ok(seen.wasHit, `${label}: the run never reached that point`);
      waitApplyGone();
      const s = state();
      // A run killed between a map's text and its .db leaves them apart, with the pending marker
      // that makes the next run rebuild the .db (recoverAndReset checks it does).
      if (!s.pending) {
        assert.equal(s.text, textOf(bundleA), `${label}: changed files without a pending marker`);
        assert.equal(s.db, s.text.includes(PROBE), `${label}: virtual.db disagrees with its text`);
      }
      outcomes.push(`${point}: ${s.pending ? "pending" : "untouched"}`);
      recoverAndReset(label);
    }
    assert.deepEqual(outcomes, ["staged: untouched", "swapping: pending", "reloading: pending"]);
  });

  it("finishes or undoes a run whose SSH session is lost, and the next run finishes it", async () => {
    for (const point of ["swapping", "reloading"] as Point[]) {
      const label = `lost session when ${point}`;
      const seen = await interrupted(point, undefined, (child) => child.kill("SIGKILL"));
      assert.ok(seen.wasHit, `${label}: the run never reached that point`);
      waitApplyGone();
      const s = state();
      assert.equal(s.db, s.text.includes(PROBE), `${label}: virtual.db disagrees with its text`);
      if (!s.pending) assert.ok([textOf(bundleA), textOf(bundleB)].includes(s.text), label);
      recoverAndReset(label);
    }
  });

  it("reports a hand-made open relay and a stopped Dovecot to the postmaster, and mailfleet-repair undoes both", async () => {
    assert.equal(sshOk(host, "/usr/local/sbin/mailfleet-drift").trim(), "no drift");
    assert.equal(sshOk(host, "systemctl is-enabled mailfleet-drift.timer").trim(), "enabled");
    const mainCf = file("/etc/postfix/main.cf");
    sshOk(host, "postconf -e 'mynetworks = 0.0.0.0/0' && postfix reload && systemctl stop dovecot");
    // What the hourly timer runs: the report goes to the journal and, through root's alias, to the postmaster.
    sshOk(host, "systemctl start mailfleet-drift.service || true");
    const journal = sshOk(host, "journalctl -q --no-pager -t mailfleet-drift -o cat");
    assert.match(journal, /^drift: \/etc\/postfix\/main\.cf differs from what mailfleet installed$/m);
    assert.match(journal, /^drift: service dovecot is inactive$/m);
    const repair = ssh(host, "/usr/local/sbin/mailfleet-repair");
    assert.equal(repair.code, 0, repair.stderr);
    assert.match(repair.stdout, /changed \/etc\/postfix\/main\.cf/);
    assert.equal(file("/etc/postfix/main.cf"), mainCf);
    assert.equal(sshOk(host, "postconf -h mynetworks").trim(), "127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128");
    assert.equal(sshOk(host, "systemctl is-active dovecot postfix@-").trim(), "active\nactive");
    // The report was queued while Dovecot was down; with Dovecot back it reaches the postmaster.
    sshOk(host, "postqueue -f");
    assert.match(sshOk(host, "for i in $(seq 1 50); do grep -rl 'Subject: mailfleet: mail.mailfleet.test differs' /var/vmail/example.test/alice/Maildir/new/ 2>/dev/null && break; sleep 0.2; done"), /Maildir\/new\//);
    assert.equal(sshOk(host, "/usr/local/sbin/mailfleet-drift").trim(), "no drift");
  });

  it("refuses a bundle or a mailbox list cut off while it was being sent, and changes nothing", () => {
    const before = sshOk(host, "sha256sum /etc/postfix/virtual /etc/postfix/main.cf /etc/dovecot/users");
    // Cut after the first file: without the "@@done 2" line it is not taken for a one-file bundle.
    const cut = bundleB.slice(0, bundleB.indexOf("@@file /etc/postfix/main.cf"));
    const r = apply(cut);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bundle truncated after 1 files \(no '@@done 1' line\), nothing changed/);
    const users = Object.entries(p.passwords).map(([a, pw]) => `${a}\t${pw}\n`).join("");
    const u = ssh(host, "/usr/local/sbin/mailfleet-users 5000", users.split("\n").slice(0, 1).join("\n") + "\n");
    assert.notEqual(u.code, 0);
    assert.match(u.stderr, /the mailbox list is truncated \(no @@done line, or a wrong count\), nothing changed/);
    assert.equal(sshOk(host, "sha256sum /etc/postfix/virtual /etc/postfix/main.cf /etc/dovecot/users"), before);
  });

  it("finishes archiving a removed mailbox that a killed run left behind", () => {
    // What a run killed between writing /etc/dovecot/users and moving the Maildir leaves: the list.
    sshOk(host, "install -d -o vmail -g vmail /var/vmail/example.test/ghost/Maildir/new && echo 'Subject: ghost-mail' >/var/vmail/example.test/ghost/Maildir/new/1 && echo ghost@example.test >/var/lib/mailfleet/users.retire");
    const list = `${Object.entries(p.passwords).map(([a, pw]) => `${a}\t${pw}\n`).join("")}@@done ${Object.keys(p.passwords).length}\n`;
    const r = ssh(host, "/usr/local/sbin/mailfleet-users 5000", list);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(ssh(host, "test -e /var/vmail/example.test/ghost").code, 1, "the Maildir is still where a new owner would get it");
    assert.match(sshOk(host, "grep -rl ghost-mail /var/vmail/.removed/example.test/"), /ghost\.\d{8}T\d{6}Z/);
    assert.equal(ssh(host, "test -e /var/lib/mailfleet/users.retire").code, 1);
  });

  it("rebuilds a .db left newer than its text by a crash between the two renames", () => {
    // The state a crash between renaming the .db and its text used to leave: B's .db beside A's text.
    assert.equal(apply(bundleB).code, 0);
    sshOk(host, "cp -a /etc/postfix/virtual.db /run/b.db");
    assert.equal(apply(bundleA).code, 0);
    sshOk(host, "cp /run/b.db /etc/postfix/virtual.db && touch /etc/postfix/virtual.db && rm /run/b.db");
    assert.equal(state().db, true, "setup: the stale .db answers for the removed alias");
    // A run with A's text must notice that the .db does not belong to it.
    assert.equal(apply(bundleA).code, 0);
    assert.equal(state().db, false, "the removed alias is still live through a stale .db");
  });
});
