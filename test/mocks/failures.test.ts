// Bad input stops the run before the first remote command: the engine double runs the real
// program in a child process (as `pulumi up` would) against an address where no host exists, so
// any command that ran would fail loudly. No SSH session may be opened.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { Override, runStack } from "../tools/stack-run";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailfleet-fail-"));
execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "key")]);
const base: Record<string, Override> = {
  // TEST-NET-1 (RFC 5737): nothing answers there, and nothing may be sent there.
  "mailfleet:hostAddress": { value: "192.0.2.10" },
  "mailfleet:sshPrivateKey": { value: fs.readFileSync(path.join(dir, "key"), "utf8"), secret: true },
  "mailfleet:sshHostKey": { value: fs.readFileSync(path.join(dir, "key.pub"), "utf8").split(" ").slice(0, 2).join(" ") },
  "mailfleet:mailboxPasswords": { value: "alice@example.test: alice-password-1\nbob@example.test: bob-password-22\ncarol@example.org: carol-password-3\n", secret: true },
};

describe("a run with bad input", () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("fails on an invalid stack config with every problem, before any resource", () => {
    const r = runStack("up", "sandbox", { ...base, "mailfleet:hostname": { value: "mail" }, "mailfleet:trustedNetworks": { value: '["0.0.0.0/0"]' } }, path.join(dir, "s1.json"));
    assert.equal(r.code, 1);
    assert.equal(r.summary.sshSessions, 0);
    assert.deepEqual(r.summary.operations, []);
    const text = r.summary.errors.join("\n");
    assert.match(text, /invalid stack config for "sandbox":/);
    assert.match(text, /mailfleet:hostname: "mail" is not a fully qualified domain name/);
    assert.match(text, /mailfleet:trustedNetworks\[0\]: "0.0.0.0\/0" trusts every address on the Internet: that is an open relay/);
  });

  it("fails on a config that would trust a provider LAN, naming the security check", () => {
    const r = runStack("up", "sandbox", { ...base, "mailfleet:trustedNetworks": { value: '["10.20.0.0/16"]' } }, path.join(dir, "s2.json"));
    assert.equal(r.code, 1);
    assert.equal(r.summary.sshSessions, 0);
    assert.deepEqual(r.summary.operations.filter((o) => o.type.startsWith("command:")), []);
    assert.match(r.summary.errors.join("\n"), /MAIL-NET-2 \(mynetworks never trusts a whole provider LAN.*\): mynetworks trusts 10\.20\.0\.0\/16/);
  });

  it("fails on a plaintext smarthost password without showing it", () => {
    const r = runStack("up", "sandbox", {
      ...base,
      "mailfleet:relayHost": { value: "smtp.provider.example" },
      "mailfleet:relayHostUsername": { value: "acme" },
      "mailfleet:relayHostPassword": { value: "plain-text-pw-123" },
    }, path.join(dir, "s3.json"));
    assert.equal(r.code, 1);
    assert.equal(r.summary.sshSessions, 0);
    assert.match(r.summary.errors.join("\n"), /mailfleet:relayHostPassword: is stored in plain text; store it as a secret/);
    assert.ok(!r.log.includes("plain-text-pw-123") && !JSON.stringify(r.summary).includes("plain-text-pw-123"));
  });

  it("never prints a secret when a command fails on the host side", () => {
    // The engine masks secrets in every error: the SSH dial to a non-existent host fails here.
    const r = runStack("up", "sandbox", { ...base, "mailfleet:hostAddress": { value: "127.0.0.1" }, "mailfleet:sshPort": { value: "1" } }, path.join(dir, "s4.json"));
    assert.equal(r.code, 1);
    const everything = `${r.log}\n${JSON.stringify(r.summary)}`;
    for (const secret of ["alice-password-1", "PRIVATE KEY"]) assert.ok(!everything.includes(secret), secret);
    assert.deepEqual(r.summary.secretLeaks, []);
    assert.match(r.summary.errors.join("\n"), /mail-host-bootstrap/);
  });
});
