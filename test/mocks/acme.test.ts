// A stack with tlsCertificateSource acme under mocks: the ACME component replaces the self-signed
// one, lego is installed, the issue step gets exactly its settings on stdin and Dovecot waits for
// it. What this does not prove: that lego gets a certificate (test/e2e/tls.test.ts, with Pebble).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { Registered, runProgramUnderMocks } from "../tools/mock-program";
import { fullStack } from "../fixtures/stacks";

const CA = "-----BEGIN CERTIFICATE-----\nMIIBdGVzdA==\n-----END CERTIFICATE-----";
let registered: Registered[] = [];

before(async () => {
  registered = await runProgramUnderMocks({
    ...fullStack.config,
    "mailfleet:tlsCertificateSource": "acme",
    "mailfleet:acmeEmail": "hostmaster@example.net",
    "mailfleet:acmeDirectoryUrl": "https://ca.test:14000/dir",
    "mailfleet:acmeCaCertificate": CA,
    "mailfleet:dhParams": "ffdhe",
  }, fullStack.secretKeys);
});

const find = (name: string) => {
  const r = registered.find((x) => x.name === name);
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
      "domain=mail.example.net",
      `ca_pem_b64=${Buffer.from(`${CA}\n`).toString("base64")}`,
      "cert_file=/etc/ssl/certs/mail.example.net.crt",
      "key_file=/etc/ssl/private/mail.example.net.key",
      "@@done 8",
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
