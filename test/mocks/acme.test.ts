// A stack with tlsCertificateSource acme under mocks: the ACME component replaces the self-signed
// one, lego is installed, the issue step gets exactly its settings on stdin and Dovecot waits for
// it. What this does not prove: that lego gets a certificate (test/e2e/tls.test.ts, with Pebble).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { Registered, runProgramUnderMocks, walkStrings } from "../tools/mock-program";
import { dnsStack, fullStack, TSIG_SECRET } from "../fixtures/stacks";

const CA = "-----BEGIN CERTIFICATE-----\nMIIBdGVzdA==\n-----END CERTIFICATE-----";
let registered: Registered[] = [];
let dns01: Registered[] = [];

before(async () => {
  registered = await runProgramUnderMocks({
    ...fullStack.config,
    "mailfleet:tlsCertificateSource": "acme",
    "mailfleet:acmeEmail": "hostmaster@example.net",
    "mailfleet:acmeDirectoryUrl": "https://ca.test:14000/dir",
    "mailfleet:acmeCaCertificate": CA,
    "mailfleet:dhParams": "ffdhe",
  }, fullStack.secretKeys);
  dns01 = await runProgramUnderMocks({
    ...dnsStack.config,
    "mailfleet:tlsCertificateSource": "acme",
    "mailfleet:acmeEmail": "hostmaster@example.net",
    "mailfleet:acmeChallenge": "dns-01",
  }, dnsStack.secretKeys);
});

const find = (name: string, from = registered) => {
  const r = from.find((x) => x.name === name);
  assert.ok(r, `${name} was not registered`);
  return r;
};

describe("an ACME stack", () => {
  it("issues on the host instead of making a self-signed certificate, with a renewal timer and no DH timer", () => {
    const names = registered.map((r) => `${r.name} (${r.type})`).sort();
    assert.ok(!names.some((n) => n.startsWith("mail-tls")), names.join("\n"));
    assert.ok(!names.some((n) => n.startsWith("mail-dh-timer")), "ffdhe has no regeneration timer");
    for (const n of ["mail-acme (mailfleet:tls:AcmeCertificate)", "mail-acme-issue (command:remote:Command)", "mail-acme-renew-timer (command:remote:Command)", "mail-dh-install (command:remote:Command)"]) {
      assert.ok(names.includes(n), `${n} missing from\n${names.join("\n")}`);
    }
    assert.equal(find("mail-acme-issue").parent, "mail-acme");
  });

  it("sends lego's settings on stdin, ending with the line count", () => {
    const issue = find("mail-acme-issue");
    assert.equal(issue.inputs.create, "/usr/local/sbin/mailfleet-acme issue");
    assert.equal(issue.inputs.stdin, [
      "server=https://ca.test:14000/dir",
      "email=hostmaster@example.net",
      "key_type=rsa2048",
      "renew_days=30",
      "challenge=http-01",
      "domain=mail.example.net",
      `ca_pem_b64=${Buffer.from(`${CA}\n`).toString("base64")}`,
      "cert_file=/etc/ssl/certs/mail.example.net.crt",
      "key_file=/etc/ssl/private/mail.example.net.key",
      "@@done 9",
      "",
    ].join("\n"));
    assert.equal(find("mail-dh-install").inputs.create, "/usr/local/sbin/mailfleet-dhparams install ffdhe 3072");
  });

  it("installs lego with the mail packages and configures Dovecot only after the certificate is there", () => {
    assert.match(String(find("mail-host-packages").inputs.stdin), / lego( |$)/m);
    assert.deepEqual(find("mail-dovecot-vmail").dependencies.sort(), ["mail-acme-issue", "mail-dh-install"]);
    assert.deepEqual(find("mail-acme-renew-timer").dependencies, ["mail-acme-issue"]);
  });
});

describe("an ACME stack with the DNS-01 challenge", () => {
  it("tries and keeps the RFC 2136 key in a secret step before the issue step", () => {
    const key = find("mail-acme-dns01-key", dns01);
    assert.equal(key.parent, "mail-acme");
    assert.equal(key.inputs.create, "/usr/local/sbin/mailfleet-acme credentials");
    assert.equal(key.inputs.delete, "/usr/local/sbin/mailfleet-acme forget-credentials");
    assert.ok(find("mail-acme-issue", dns01).dependencies.includes("mail-acme-dns01-key"));
    assert.match(String(find("mail-acme-issue", dns01).inputs.stdin), /^challenge=dns-01$/m);
    // The request names the challenge record of the certificate's name, and carries the secret.
    assert.ok(pulumi.runtime.isRpcSecret(key.inputs.stdin));
    const request = String(pulumi.runtime.unwrapRpcSecret(key.inputs.stdin));
    assert.equal(request, [
      "server 192.0.2.53 53",
      "key hmac-sha256 mailfleet-acme",
      `secret ${TSIG_SECRET}`,
      // The stack's dnsTtl (3600) is capped for challenge records.
      "ttl 120",
      'rr _acme-challenge.mail.example.net TXT "mailfleet-acme key check"',
      "@@done 1",
      "",
    ].join("\n"));
    assert.equal(key.inputs.logging, "none");
    assert.ok(key.options.additionalSecretOutputs.includes("stdout"));
    const leaks: string[] = [];
    for (const r of dns01) walkStrings(r.inputs, (s, secret) => { if (!secret && s.includes(TSIG_SECRET)) leaks.push(r.name); });
    assert.deepEqual(leaks, []);
  });

  it("has no key step over HTTP-01", () => {
    assert.equal(registered.find((r) => r.name === "mail-acme-dns01-key"), undefined);
  });
});
