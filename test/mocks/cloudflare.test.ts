// The program publishing its records through Cloudflare, under mocks: exactly the expected
// DnsRecord resources (names, types, contents, TTLs, zones), none for a domain that leaves the
// stack, and the API token only as a secret. The Cloudflare provider plugin cannot be installed
// here, so nothing proves Cloudflare's API accepts them: what reaches the provider is checked.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { CLOUDFLARE_TOKEN, cloudflareStack } from "../fixtures/stacks";
import { Registered, runProgramUnderMocks, walkStrings } from "../tools/mock-program";

const RECORD = "cloudflare:index/dnsRecord:DnsRecord";
let registered: Registered[] = [];
let oneDomain: Registered[] = [];

const records = (rs: Registered[]) =>
  rs.filter((r) => r.type === RECORD).map((r) => {
    const i = r.inputs as Record<string, unknown>;
    const data = i.data as Record<string, unknown> | undefined;
    const value = data ? `${data.usage} ${data.selector} ${data.matchingType} ${String(data.certificate).length}hex` : `${i.priority !== undefined ? `${i.priority} ` : ""}${i.content}`;
    return `${i.zoneId} ${i.name} ${i.ttl} ${i.type} ${value}${i.proxied === false ? "" : " PROXIED"}`;
  }).sort();

before(async () => {
  registered = await runProgramUnderMocks(cloudflareStack.config, cloudflareStack.secretKeys);
  oneDomain = await runProgramUnderMocks({ ...cloudflareStack.config, "mailfleet:domains": '["example.test"]', "mailfleet:aliases": "[]", "mailfleet:mailboxes": '["alice@example.test"]' }, cloudflareStack.secretKeys);
});

describe("a stack that publishes its records through Cloudflare", () => {
  const T = "0123456789abcdef0123456789abcdef";
  const O = "fedcba9876543210fedcba9876543210";

  it("creates exactly the expected records in the right zones, none proxied", () => {
    assert.deepEqual(records(registered), [
      `${O} _dmarc.example.org 300 TXT "v=DMARC1; p=none"`,
      `${O} example.org 300 MX 10 mail.example.net`,
      `${O} example.org 300 TXT "v=spf1 mx -all"`,
      `${T} _dmarc.example.test 300 TXT "v=DMARC1; p=none"`,
      `${T} example.test 300 MX 10 mail.example.net`,
      `${T} example.test 300 TXT "v=spf1 mx -all"`,
      `${T} mf1._domainkey.example.test 300 TXT "v=DKIM1; k=rsa; p=MOCKDKIMMF1"`,
      `${O} mf1._domainkey.example.org 300 TXT "v=DKIM1; k=rsa; p=MOCKDKIMMF1"`,
      "00000000000000000000000000000001 _25._tcp.mail.example.net 300 TLSA 3 1 1 64hex",
      '00000000000000000000000000000001 mail.example.net 300 TXT "v=spf1 a -all"',
      "00000000000000000000000000000001 mail.example.net 300 A 192.0.2.10",
      "00000000000000000000000000000001 mail.example.net 300 AAAA 2001:db8::10",
    ].sort());
    // Published after Postfix runs the new config.
    for (const r of registered.filter((x) => x.type === RECORD)) assert.ok(r.dependencies.includes("mail-postfix-config"), r.name);
  });

  it("has no record for a domain that left the stack", () => {
    const names = records(oneDomain);
    assert.equal(names.filter((l) => l.includes("example.org")).length, 0);
    assert.equal(names.length, 8);
  });

  it("hands the API token to the provider as a secret only", () => {
    const provider = registered.find((r) => r.type === "pulumi:providers:cloudflare");
    assert.ok(provider, "no Cloudflare provider");
    assert.ok(pulumi.runtime.isRpcSecret(provider.inputs.apiToken));
    const leaks: string[] = [];
    for (const r of registered) walkStrings(r.inputs, (s, secret) => { if (!secret && s.includes(CLOUDFLARE_TOKEN)) leaks.push(r.name); });
    assert.deepEqual(leaks, []);
  });
});
