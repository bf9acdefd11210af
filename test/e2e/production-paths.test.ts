// Paths every production stack takes sooner or later, on a real Debian 12 host through the engine
// double: `pulumi preview`, a non-root login through `sudo -n`, SSH key rotation together with a
// resource removal, and `pulumi destroy`.
// Proves: preview opens no SSH session and names the planned operations; every step works
// through passwordless sudo; a delete uses the key stored when its resource was created (as
// @pulumi/command 1.2.1 does), so a key is revoked only after an `up` with the new one; destroy
// removes the smarthost password without leaving main.cf pointing at it, and the timers.
// Does not prove: the real CLI's rendering of previews, or sudo configurations other than NOPASSWD.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { ProvisionedHost } from "../tools/provisioned";
import { Override, stackConfig } from "../tools/stack-run";
import { ssh, sshOk, TestHost } from "../tools/testhost";

const why = process.getuid?.() !== 0 ? "needs root (network namespaces, systemd-nspawn)" : undefined;
if (why && process.env.MAILFLEET_E2E === "require") throw new Error(`production-path tests cannot run: ${why}`);

const changes = (ops: Array<{ op: string; name: string }>) => ops.filter((o) => o.op !== "same").map((o) => `${o.op} ${o.name}`).sort();

describe("production paths", { skip: why }, () => {
  let p: ProvisionedHost;
  let host: TestHost;
  const withAlias = { "mailfleet:aliases": { value: JSON.stringify([...(stackConfig("sandbox").aliases as string[]), "sales@example.test: bob@example.test"]) } };

  /** A new SSH key pair in the suite's folder: the private key as an override, the public key line. */
  const newKey = (name: string): { override: Override; pub: string } => {
    const file = path.join(p.dir, name);
    spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file]);
    return { override: { value: fs.readFileSync(file, "utf8"), secret: true }, pub: fs.readFileSync(`${file}.pub`, "utf8").trim() };
  };
  const authorize = (...pubs: string[]) => sshOk(host, `printf '%s\\n' ${pubs.map((k) => `'${k}'`).join(" ")} > /root/.ssh/authorized_keys`);

  before(() => {
    p = new ProvisionedHost("prod", 37, "sandbox");
    host = p.host;
    assert.equal(p.first.code, 0, p.first.log);
  });

  after(() => p?.stop());

  it("previews a change without an SSH session, naming the one step it would run", () => {
    const before = sshOk(host, "sha256sum /etc/postfix/virtual /etc/postfix/main.cf");
    const plan = p.preview(withAlias);
    assert.equal(plan.code, 0, plan.log);
    assert.equal(plan.summary.sshSessions, 0);
    assert.deepEqual(changes(plan.summary.operations), ["update mail-postfix-config"]);
    assert.equal(sshOk(host, "sha256sum /etc/postfix/virtual /etc/postfix/main.cf"), before);
    // The plan was not carried out: the next up still has that change to make.
    const up = p.up(withAlias);
    assert.deepEqual(changes(up.summary.operations), ["update mail-postfix-config"]);
    assert.equal(p.up().code, 0);
  });

  it("runs every step as a non-root login through sudo -n", () => {
    sshOk(host, [
      "DEBIAN_FRONTEND=noninteractive apt-get install -y -q sudo </dev/null >/dev/null",
      "useradd -m -s /bin/bash deploy",
      "install -d -m 0700 -o deploy -g deploy /home/deploy/.ssh",
      "install -m 0600 -o deploy -g deploy /root/.ssh/authorized_keys /home/deploy/.ssh/authorized_keys",
      "echo 'deploy ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/deploy && chmod 0440 /etc/sudoers.d/deploy",
    ].join(" && "));
    // A new login changes every step's connection: each step runs again, now through sudo.
    const r = p.up({ ...withAlias, "mailfleet:sshUser": { value: "deploy" } });
    assert.equal(r.code, 0, r.log);
    assert.ok(r.summary.operations.filter((o) => o.op !== "same").length >= 8, changes(r.summary.operations).join(", "));
    assert.equal(sshOk(host, "postmap -q sales@example.test hash:/etc/postfix/virtual").trim(), "bob@example.test");
    assert.equal(sshOk(host, "stat -c '%U:%G %a' /etc/postfix/virtual /etc/dovecot/users").trim(), "root:root 644\nroot:dovecot 640");
    assert.match(sshOk(host, "journalctl -q --no-pager -t sudo -o cat"), /deploy : .*COMMAND=\/usr\/local\/sbin\/mailfleet-apply postfix/);
    assert.equal(p.up().code, 0, "back to root");
  });

  it("removes a resource with the key it was created with, so a key is revoked only after an up with the new one", () => {
    // The test's own key (host.sshKey) stays authorized throughout; the stack logs in with k1..k3.
    const harness = fs.readFileSync(`${host.sshKey}.pub`, "utf8").trim();
    const [k1, k2, k3] = ["k1", "k2", "k3"].map(newKey);
    authorize(harness, k1.pub);
    assert.equal(p.up({ "mailfleet:sshPrivateKey": k1.override, "mailfleet:queueCleanupTimer": { value: "true" } }).code, 0);
    // k1 and k2 authorized: k2 runs the changed steps, the stored k1 deletes the timer.
    authorize(harness, k1.pub, k2.pub);
    const rotated = p.up({ "mailfleet:sshPrivateKey": k2.override });
    assert.equal(rotated.code, 0, rotated.log);
    assert.ok(changes(rotated.summary.operations).includes("delete mail-postfix-queue-cleanup-timer"));
    assert.equal(ssh(host, "test -e /etc/systemd/system/mailfleet-queue-cleanup.timer").code, 1);
    authorize(harness, k2.pub);
    assert.equal(p.up({ "mailfleet:sshPrivateKey": k2.override }).summary.sshSessions, 0, "nothing to do with the new key alone");

    // Revoking the creating key first: the delete cannot log in, the up fails and names the step.
    assert.equal(p.up({ "mailfleet:sshPrivateKey": k2.override, "mailfleet:queueCleanupTimer": { value: "true" } }).code, 0);
    authorize(harness, k3.pub);
    const failed = p.up({ "mailfleet:sshPrivateKey": k3.override });
    assert.notEqual(failed.code, 0);
    assert.ok(failed.summary.errors.some((e) => e.includes("mail-postfix-queue-cleanup-timer")), failed.summary.errors.join("\n"));
    // Authorizing the old key again lets the next up finish the pending delete.
    authorize(harness, k2.pub, k3.pub);
    const recovered = p.up({ "mailfleet:sshPrivateKey": k3.override });
    assert.equal(recovered.code, 0, recovered.log);
    assert.equal(ssh(host, "test -e /etc/systemd/system/mailfleet-queue-cleanup.timer").code, 1);
    // Back to the test's own key for the rest of the suite.
    assert.equal(p.up().code, 0);
    authorize(harness);
  });

  it("removes the old key and certificate when the host name changes", () => {
    const old = { key: "/etc/ssl/private/mail.mailfleet.test.key", crt: "/etc/ssl/certs/mail.mailfleet.test.crt" };
    const renamed = p.up({ "mailfleet:hostname": { value: "mx2.mailfleet.test" } });
    assert.equal(renamed.code, 0, renamed.log);
    assert.equal(sshOk(host, "stat -c '%U:%G %a' /etc/ssl/private/mx2.mailfleet.test.key /etc/ssl/certs/mx2.mailfleet.test.crt").trim(), "root:root 600\nroot:root 644");
    assert.equal(ssh(host, `ls ${old.key} ${old.crt}`).code, 2, "the old key is still on the host");
    assert.equal(sshOk(host, "postconf -h smtpd_tls_chain_files").trim(), "/etc/ssl/private/mx2.mailfleet.test.key, /etc/ssl/certs/mx2.mailfleet.test.crt");
    const drift = ssh(host, "/usr/local/sbin/mailfleet-drift");
    assert.equal(drift.stdout.trim(), "no drift", drift.stderr);
    assert.equal(p.up().code, 0);
    assert.equal(ssh(host, "ls /etc/ssl/private/mx2.mailfleet.test.key").code, 2);
  });

  it("destroys the stack: the smarthost password and timers go, and main.cf never points at a missing map", () => {
    const relay = {
      "mailfleet:relayHost": { value: "[192.0.2.1]:587" },
      "mailfleet:relayHostUsername": { value: "acme" },
      "mailfleet:relayHostPassword": { value: "relay-secret-pw-31", secret: true },
    };
    assert.equal(p.up(relay).code, 0);
    assert.equal(sshOk(host, "postconf -h smtp_sasl_password_maps").trim(), "hash:/etc/postfix/sasl_passwd");
    const down = p.destroy(relay);
    assert.equal(down.code, 0, down.log);
    assert.ok(down.summary.operations.every((o) => o.op === "delete"), changes(down.summary.operations).join(", "));
    assert.equal(ssh(host, "ls /etc/postfix/sasl_passwd /etc/postfix/sasl_passwd.db").code, 2, "the smarthost password is still on the host");
    assert.equal(sshOk(host, "postconf -n | grep -c '^smtp_sasl' || true").trim(), "0");
    assert.equal(sshOk(host, "postconf -h relayhost").trim(), "[192.0.2.1]:587", "outbound mail waits at the smarthost instead of leaving directly");
    assert.equal(ssh(host, "postfix check").code, 0);
    assert.equal(sshOk(host, "systemctl is-active postfix@-").trim(), "active");
    assert.equal(sshOk(host, "ls /etc/systemd/system | grep -c mailfleet || true").trim(), "0");
    assert.equal(sshOk(host, "ls /var/lib/mailfleet/bundles | grep -c '^postfix' || true").trim(), "0");
  });
});
