// The program publishing its records through RFC 2136, under mocks: one step on the host after
// Postfix, the TSIG secret only inside its secret stdin, nsupdate's package installed, the outputs
// in zone-file form. Does not prove a server accepts the update (see test/e2e/dns.test.ts).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { dnsStack, fullStack, TSIG_SECRET } from "../fixtures/stacks";
import { Registered, runProgramUnderMocks, walkStrings } from "../tools/mock-program";

let registered: Registered[] = [];
let withoutDns: Registered[] = [];
const step = (name: string, from = registered) => {
  const r = from.find((x) => x.name === name);
  assert.ok(r, `${name} was not registered`);
  return r;
};

before(async () => {
  registered = await runProgramUnderMocks(dnsStack.config, dnsStack.secretKeys);
  withoutDns = await runProgramUnderMocks(fullStack.config, fullStack.secretKeys);
});

describe("a stack that publishes its records through RFC 2136", () => {
  it("adds one DNS step after Postfix's config, and nsupdate's package", () => {
    const dns = step("mail-dns");
    assert.equal(dns.parent, "mail");
    // The TLSA record comes from the certificate.
    // and the DKIM record from the signing key.
    assert.deepEqual(dns.dependencies, ["mail-dkim-key-mf1", "mail-postfix-config", "mail-tls-cert"]);
    assert.equal(dns.inputs.create, "/usr/local/sbin/mailfleet-dns publish");
    assert.equal(dns.inputs.delete, "/usr/local/sbin/mailfleet-dns remove");
    // A replacement must not run the old step's remove after the new publish.
    assert.equal(dns.options.deleteBeforeReplace, true);
    assert.match(String(step("mail-host-packages").inputs.create ?? "") + String(pulumi.runtime.unwrapRpcSecret(step("mail-host-packages").inputs.stdin) ?? ""), /bind9-dnsutils/);
    // The same program without a provider: it registers its steps, but no DNS step.
    assert.ok(withoutDns.some((r) => r.name === "mail-postfix-config"));
    assert.equal(withoutDns.find((r) => r.name === "mail-dns"), undefined);
  });

  it("makes Rspamd sign only after the DNS step has published the key", () => {
    assert.ok(step("mail-dkim-rspamd").dependencies.includes("mail-dns"));
  });

  it("sends the TSIG secret only inside the DNS step's secret stdin, with the records", () => {
    const dns = step("mail-dns").inputs;
    assert.ok(pulumi.runtime.isRpcSecret(dns.stdin));
    const request = String(pulumi.runtime.unwrapRpcSecret(dns.stdin));
    assert.match(request, /^server 192\.0\.2\.53 53\nkey hmac-sha256 mailfleet-acme\nsecret \S+\nttl 3600\n/);
    assert.ok(request.includes(`secret ${TSIG_SECRET}\n`));
    assert.match(request, /^rr example\.test SPF "v=spf1 include:spf\.provider\.example -all"$/m);
    assert.match(request, /^rr mail\.example\.net A 192\.0\.2\.10$/m);
    assert.equal(dns.logging, "none");
    assert.ok(step("mail-dns").options.additionalSecretOutputs.includes("stdout"));
    const leaks: string[] = [];
    for (const r of registered) walkStrings(r.inputs, (s, secret) => { if (!secret && s.includes(TSIG_SECRET)) leaks.push(r.name); });
    assert.deepEqual(leaks, []);
  });
});
