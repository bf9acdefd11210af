// The program with a smarthost and the cleanup timer, under mocks: the SASL password lives only
// in its own secret step, main.cf's bundle stays a readable (non-secret) diff, and the steps
// run in order. Does not prove the smarthost accepts the login (see test/e2e/policy.test.ts).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { fullStack, RELAY_PASSWORD } from "../fixtures/stacks";
import { Registered, runProgramUnderMocks, walkStrings } from "../tools/mock-program";

let registered: Registered[] = [];
const step = (name: string) => {
  const r = registered.find((x) => x.name === name);
  assert.ok(r, `${name} was not registered`);
  return r;
};

before(async () => {
  registered = await runProgramUnderMocks(fullStack.config, fullStack.secretKeys);
});

describe("a stack with a smarthost", () => {
  it("adds the credentials step and the timer under Postfix, in order", () => {
    assert.equal(step("mail-postfix-smarthost-credentials").parent, "mail-postfix");
    // main.cf's process limits derive from the host size the package step reads.
    assert.deepEqual(step("mail-postfix-config").dependencies, ["mail-dovecot-config", "mail-host-packages", "mail-postfix-smarthost-credentials", "mail-srs"]);
    assert.deepEqual(step("mail-postfix-queue-cleanup-timer").dependencies, ["mail-postfix-config"]);
    assert.match(String(step("mail-postfix-queue-cleanup-timer").inputs.delete), /systemctl disable --now mailfleet-queue-cleanup\.timer/);
  });

  it("sends the password only inside the credentials step's secret stdin", () => {
    const creds = step("mail-postfix-smarthost-credentials").inputs;
    assert.ok(pulumi.runtime.isRpcSecret(creds.stdin));
    assert.match(String(pulumi.runtime.unwrapRpcSecret(creds.stdin)), /^@@file \/etc\/postfix\/sasl_passwd 0600 root root postmap\n/);
    assert.match(String(pulumi.runtime.unwrapRpcSecret(creds.stdin)), /^\[smtp\.provider\.example\]:587 +acme:relay-secret-pw-77$/m);
    assert.equal(creds.create, "/usr/local/sbin/mailfleet-apply postfix smarthost");
    assert.equal(creds.logging, "none");
    assert.ok(step("mail-postfix-smarthost-credentials").options.additionalSecretOutputs.includes("stdout"));
    assert.equal(creds.delete, "bash -c 'rm -f /etc/postfix/sasl_passwd /etc/postfix/sasl_passwd.db; rm -f /var/lib/mailfleet/bundles/postfix-smarthost.bundle'");
    // Destroying the Postfix step first stops main.cf naming the password map.
    assert.match(String(step("mail-postfix-config").inputs.delete), /^bash -c 'postconf -X smtp_sasl_auth_enable smtp_sasl_password_maps /);
    const leaks: string[] = [];
    for (const r of registered) walkStrings(r.inputs, (s, secret) => { if (!secret && s.includes(RELAY_PASSWORD)) leaks.push(r.name); });
    assert.deepEqual(leaks, []);
  });

  it("keeps main.cf's bundle readable and pointing at the smarthost with TLS required", () => {
    const stdin = step("mail-postfix-config").inputs.stdin;
    assert.ok(!pulumi.runtime.isRpcSecret(stdin), "a secret bundle would hide every main.cf change in pulumi preview --diff");
    const text = String(stdin);
    assert.match(text, /^relayhost = \[smtp\.provider\.example\]:587$/m);
    assert.match(text, /^smtp_sasl_password_maps = hash:\/etc\/postfix\/sasl_passwd$/m);
    assert.match(text, /^\[smtp\.provider\.example\]:587 +secure match=smtp\.provider\.example$/m);
  });
});
