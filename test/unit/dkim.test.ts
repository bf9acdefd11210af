// DKIM: the config keys (every refusal with its exact message), the key the provider makes (its
// public half is what the DNS record says, its private half a PKCS#8 PEM Rspamd reads), when a
// key is replaced, and the DNS records of the signing and previous selectors.
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { describe, it } from "node:test";
import { readConfig } from "../../components/config";
import { dkimKeyProvider } from "../../components/dkim/dkim-key.provider";
import { mailRecords } from "../../components/dns/records";
import { configProblems } from "../tools/config-problems";
import { fullStack } from "../fixtures/stacks";

const SECRETS = new Set(fullStack.secretKeys);
const problems = (change: Record<string, string>) => configProblems({ ...fullStack.config, ...change }, SECRETS);

describe("DKIM config", () => {
  it("signs by default with selector mf1 and a 2048-bit key", () => {
    assert.deepEqual(readConfig("s", fullStack.config, SECRETS).dkim, { enabled: true, selector: "mf1", previousSelector: "", keyBits: 2048 });
  });

  const cases: Array<[string, Record<string, string>, string[]]> = [
    ["refuses a selector that is not one DNS label", { "mailfleet:dkimSelector": "mf.1", "mailfleet:dkimPreviousSelector": "Old_1" }, [
      'mailfleet:dkimSelector: "mf.1" is not a DKIM selector (one DNS label: lower-case letters, digits and inner "-", e.g. mf2027)',
      'mailfleet:dkimPreviousSelector: "Old_1" is not a DKIM selector (one DNS label: lower-case letters, digits and inner "-", e.g. mf2027)',
    ]],
    ["refuses the signing selector as the previous one", { "mailfleet:dkimPreviousSelector": "mf1" }, [
      'mailfleet:dkimPreviousSelector: "mf1" is the signing selector itself; set the selector that signed before the rotation, or leave it empty',
    ]],
    ["refuses a previous selector without signing", { "mailfleet:dkimSigning": "false", "mailfleet:dkimPreviousSelector": "mf0" }, [
      "mailfleet:dkimPreviousSelector: is set but mailfleet:dkimSigning is false, so no key is published; remove it or turn signing on",
    ]],
    ["refuses AUTH on port 25 while signing (no milter there)", { "mailfleet:allowAuthOnPort25": "true", "mailfleet:smtpInboundTlsMinimum": "TLSv1.2" }, [
      "mailfleet:allowAuthOnPort25: is true, but mail submitted on port 25 passes no milter, so it would leave unsigned while mailfleet:dkimSigning is on; have clients submit on 587/465, or turn dkimSigning off",
    ]],
    ["refuses a public source address other than the published one", { "mailfleet:publicIpv4": "192.0.2.10", "mailfleet:smtpBindAddress": "198.51.100.7", "mailfleet:smtpBindAddress6": "fd00::7", "mailfleet:publicIpv6": "2001:db8::10" }, [
      'mailfleet:smtpBindAddress: "198.51.100.7" is a public address other than mailfleet:publicIpv4 (192.0.2.10), which the SPF and A/AAAA records name: mail sent from it would fail SPF; make them the same address',
    ]],
    ["refuses a key size outside the list", { "mailfleet:dkimKeyBits": "1024" }, [
      "mailfleet:dkimKeyBits: 1024 is not allowed; use one of 2048, 3072, 4096",
    ]],
  ];
  for (const [name, change, expected] of cases) it(name, () => assert.deepEqual(problems(change), expected));
});

describe("DKIM key", () => {
  it("publishes the public half of the private key it keeps, as base64 DER SubjectPublicKeyInfo", async () => {
    const { outs } = await dkimKeyProvider.create({ selector: "mf1", keyBits: 2048 });
    assert.match(outs.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    const fromPrivate = crypto.createPublicKey(crypto.createPrivateKey(outs.privateKeyPem)).export({ type: "spki", format: "der" }).toString("base64");
    assert.equal(outs.publicKeyBase64, fromPrivate);
    assert.equal(outs.publicKeyBase64.length, 392);
    // No line of the secret PEM reappears in the published key (the engine double flags that).
    for (const line of String(outs.privateKeyPem).split("\n").filter((l: string) => l.length >= 16 && !l.startsWith("-----"))) {
      assert.ok(!outs.publicKeyBase64.includes(line));
    }
  });

  it("is replaced when the selector or the size changes, and only then", async () => {
    const olds = { selector: "mf1", keyBits: 2048, privateKeyPem: "x", publicKeyBase64: "y" };
    const diff = (news: { selector: string; keyBits: number }) => dkimKeyProvider.diff!("id", olds, news);
    assert.deepEqual(await diff({ selector: "mf1", keyBits: 2048 }), { changes: false, replaces: [], deleteBeforeReplace: false });
    assert.deepEqual((await diff({ selector: "mf2", keyBits: 2048 })).replaces, ["selector"]);
    assert.deepEqual((await diff({ selector: "mf1", keyBits: 4096 })).replaces, ["keyBits"]);
  });
});

describe("DKIM records", () => {
  it("publishes every given selector's key for every hosted domain", () => {
    const rs = mailRecords({ hostname: "mail.example.net", domains: ["example.com", "example.org"], dmarc: { policy: "none" }, dkimKeys: [{ selector: "mf2", publicKeyBase64: "NEW" }, { selector: "mf1", publicKeyBase64: "OLD" }] });
    assert.deepEqual(rs.filter((r) => r.name.includes("._domainkey.")).map((r) => `${r.name} ${r.type} ${r.value}`), [
      "mf2._domainkey.example.com TXT v=DKIM1; k=rsa; p=NEW",
      "mf1._domainkey.example.com TXT v=DKIM1; k=rsa; p=OLD",
      "mf2._domainkey.example.org TXT v=DKIM1; k=rsa; p=NEW",
      "mf1._domainkey.example.org TXT v=DKIM1; k=rsa; p=OLD",
    ]);
  });
});
