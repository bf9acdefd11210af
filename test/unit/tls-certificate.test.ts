// The self-signed certificate provider, called directly: what it creates, and when its diff
// asks Pulumi to replace it (names, size, validity, profile, or close to expiry).
import assert from "node:assert/strict";
import { X509Certificate, createPrivateKey, createPublicKey } from "node:crypto";
import { describe, it } from "node:test";
import { CERTIFICATE_PROFILE, selfSignedProvider, SelfSignedInputs, SelfSignedOutputs } from "../../components/tls/self-signed.provider";
import { smarthostTlsPolicy } from "../../components/postfix/render";

const inputs: SelfSignedInputs = { profile: CERTIFICATE_PROFILE, commonName: "mail.example.net", altNames: ["imap.example.com"], keyBits: 2048, validityDays: 825, renewBeforeDays: 30 };

describe("self-signed certificate provider", () => {
  it("creates a leaf certificate for the names, signed by its own key", async () => {
    const { outs } = await selfSignedProvider.create(inputs);
    const o = outs as SelfSignedOutputs;
    const cert = new X509Certificate(o.certPem);
    assert.equal(cert.ca, false);
    assert.equal(cert.subjectAltName, "DNS:mail.example.net, DNS:imap.example.com");
    assert.ok(cert.verify(cert.publicKey));
    assert.equal(createPublicKey(createPrivateKey(o.privateKeyPem)).export({ type: "spki", format: "pem" }), cert.publicKey.export({ type: "spki", format: "pem" }));
    const days = (Date.parse(cert.validTo) - Date.now()) / 86400000;
    assert.ok(days > 824 && days < 826, String(days));
    assert.equal(cert.checkHost("mail.example.net"), "mail.example.net");
  });

  it("keeps the certificate while nothing changed and replaces it when a name, the size, the validity or the profile does", async () => {
    const olds = (await selfSignedProvider.create(inputs)).outs as SelfSignedOutputs;
    assert.deepEqual(await selfSignedProvider.diff!("id", olds, inputs), { changes: false, replaces: [], deleteBeforeReplace: false });
    for (const change of [{ altNames: [] }, { commonName: "mx.example.net" }, { keyBits: 3072 }, { validityDays: 400 }, { profile: 1 }]) {
      const d = await selfSignedProvider.diff!("id", olds, { ...inputs, ...change });
      assert.deepEqual(d.replaces, Object.keys(change));
    }
    const renew = await selfSignedProvider.diff!("id", olds, { ...inputs, renewBeforeDays: 10 });
    assert.deepEqual([renew.changes, renew.replaces], [true, []]);
  });

  it("renews within renewBeforeDays of expiry, and not before", async () => {
    const olds = (await selfSignedProvider.create(inputs)).outs as SelfSignedOutputs;
    const soon = { ...olds, notAfter: new Date(Date.now() + 10 * 86400000).toISOString() };
    assert.deepEqual((await selfSignedProvider.diff!("id", soon, inputs)).replaces, ["notAfter"]);
    const short = { ...inputs, validityDays: 20, renewBeforeDays: 6 };
    const fresh = (await selfSignedProvider.create(short)).outs as SelfSignedOutputs;
    assert.deepEqual((await selfSignedProvider.diff!("id", fresh, short)).replaces, []);
  });
});

describe("TLS toward the smarthost", () => {
  it("verifies a named smarthost and encrypts toward an IP literal", () => {
    assert.equal(smarthostTlsPolicy("[smtp.provider.example]:587"), "secure match=smtp.provider.example");
    assert.equal(smarthostTlsPolicy("[192.0.2.1]:587"), "encrypt");
    assert.equal(smarthostTlsPolicy("[2001:db8::1]:587"), "encrypt");
  });
});
