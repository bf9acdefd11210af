// The TLS keys: certificate source and ACME settings, DH parameters, the port-25 TLS minimum and
// per-destination TLS policies. Every refused value with its exact message.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configProblems } from "../tools/config-problems";
import { readConfig } from "../../components/config";
import { parsePolicy, policyText } from "../../components/config/peer-tls";
import { cloudflareStack, fullStack } from "../fixtures/stacks";

const SECRETS = new Set(fullStack.secretKeys);
const PIN = "01:78:cb:07:52:13:b4:5b:09:6d:1d:fc:95:94:15:1d:7f:0e:d1:a5:4b:99:90:7d:ef:73:be:d9:aa:78:db:8b";

const problems = (change: Record<string, string>) => configProblems({ ...fullStack.config, ...change }, SECRETS);

const acme = { "mailfleet:tlsCertificateSource": "acme", "mailfleet:acmeEmail": "hostmaster@example.net" };

describe("TLS config", () => {
  it("defaults to a self-signed certificate, regenerated 3072-bit DH parameters and TLS 1.0+ on port 25", () => {
    const c = readConfig("acme-prod", fullStack.config, SECRETS);
    assert.deepEqual({ ...c.tls }, {
      source: "self-signed",
      keyBits: 2048,
      validityDays: 825,
      acme: undefined,
      dhParams: "regenerate",
      dhParamBits: 3072,
      dhRegenerateSchedule: "weekly",
      smtpInboundTlsMinimum: "TLSv1",
    });
    assert.deepEqual(c.policy.smtpTlsPolicies, []);
  });

  it("reads the ACME settings, with Let's Encrypt as the default directory", () => {
    const c = readConfig("acme-prod", { ...fullStack.config, ...acme, "mailfleet:acmeRenewBeforeDays": "20" }, SECRETS);
    assert.deepEqual(c.tls.acme, { directoryUrl: "https://acme-v02.api.letsencrypt.org/directory", email: "hostmaster@example.net", caCertificatePem: "", renewBeforeDays: 20, challenge: "http-01" });
  });

  it("reads per-destination policies, normalising fingerprints", () => {
    const c = readConfig("acme-prod", {
      ...fullStack.config,
      "mailfleet:smtpTlsPolicies": JSON.stringify(["Partner.Example encrypt", "[mx.bank.example]:25 fingerprint match=" + PIN.replace(/:/g, "").toUpperCase(), ".bank.example secure match=.bank.example:bank.example"]),
    }, SECRETS);
    assert.deepEqual(c.policy.smtpTlsPolicies.map((p) => [p.destination, policyText(p)]), [
      ["partner.example", "encrypt"],
      ["[mx.bank.example]:25", `fingerprint match=${PIN}`],
      [".bank.example", "secure match=.bank.example:bank.example"],
    ]);
  });

  const cases: Array<[string, Record<string, string>, string[]]> = [
    ["fails on an unknown certificate source", { "mailfleet:tlsCertificateSource": "letsencrypt" }, [
      'mailfleet:tlsCertificateSource: "letsencrypt" is not allowed; use one of self-signed, acme',
    ]],
    ["fails on ACME without an account e-mail", { "mailfleet:tlsCertificateSource": "acme" }, [
      "mailfleet:acmeEmail: is required with tlsCertificateSource acme: the CA sends expiry notices there",
    ]],
    ["fails on an ACME directory that is not https", { ...acme, "mailfleet:acmeDirectoryUrl": "http://ca.example/dir" }, [
      'mailfleet:acmeDirectoryUrl: "http://ca.example/dir" is not an https:// URL of an ACME directory (e.g. https://acme-v02.api.letsencrypt.org/directory)',
    ]],
    ["fails on an extra CA that is not PEM", { ...acme, "mailfleet:acmeCaCertificate": "MIIB..." }, [
      "mailfleet:acmeCaCertificate: is not one or more PEM certificates (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)",
    ]],
    ["fails on ACME keys while the certificate is self-signed", { "mailfleet:acmeEmail": "hostmaster@example.net" }, [
      'mailfleet:acmeEmail: is set but mailfleet:tlsCertificateSource is "self-signed"; set tlsCertificateSource to "acme" or remove mailfleet:acmeEmail',
    ]],
    ["fails on the DNS-01 challenge without an RFC 2136 server to answer it through", { ...acme, "mailfleet:acmeChallenge": "dns-01" }, [
      'mailfleet:acmeChallenge: "dns-01" needs mailfleet:dnsProvider rfc2136, not "none": lego on the host publishes the challenge record through that server with its TSIG key; set dnsProvider to rfc2136 (with dnsServer and the key), or use "http-01"',
    ]],
    ["fails on an unknown ACME challenge", { ...acme, "mailfleet:acmeChallenge": "tls-alpn-01" }, [
      'mailfleet:acmeChallenge: "tls-alpn-01" is not allowed; use one of http-01, dns-01',
    ]],
    ["fails on an ACME challenge while the certificate is self-signed", { "mailfleet:acmeChallenge": "dns-01" }, [
      'mailfleet:acmeChallenge: is set but mailfleet:tlsCertificateSource is "self-signed"; set tlsCertificateSource to "acme" or remove mailfleet:acmeChallenge',
    ]],
    ["fails on a 3072-bit ACME key, which lego cannot make", { ...acme, "mailfleet:tlsKeyBits": "3072" }, [
      "mailfleet:tlsKeyBits: 3072 is not a key size the ACME client (lego) generates; use 2048 or 4096 with tlsCertificateSource acme",
    ]],
    ["fails on 2048-bit DH parameters", { "mailfleet:dhParamBits": "2048" }, ["mailfleet:dhParamBits: 2048 is not allowed; use one of 3072, 4096"]],
    ["fails on an unknown DH mode", { "mailfleet:dhParams": "auto" }, ['mailfleet:dhParams: "auto" is not allowed; use one of regenerate, ffdhe, none']],
    ["fails on a schedule with shell characters", { "mailfleet:dhRegenerateSchedule": "daily; rm -rf /" }, [
      'mailfleet:dhRegenerateSchedule: "daily; rm -rf /" is not a systemd calendar expression (e.g. daily, weekly, "Sun *-*-* 03:00:00")',
    ]],
    ["fails on a DH schedule more often than daily", { "mailfleet:dhRegenerateSchedule": "hourly" }, [
      'mailfleet:dhRegenerateSchedule: "hourly" runs more often than daily; a generation costs a minute or more of a core and reloads Postfix and Dovecot: use daily, weekly or a fixed time such as "Sun *-*-* 03:00:00"',
    ]],
    ["fails on a renewal window as long as a certificate's life", { ...acme, "mailfleet:acmeRenewBeforeDays": "90" }, [
      "mailfleet:acmeRenewBeforeDays: 90 is out of range; use 1 to 60",
    ]],
    ["fails on TLS 1.1 as the port-25 minimum", { "mailfleet:smtpInboundTlsMinimum": "TLSv1.1" }, [
      'mailfleet:smtpInboundTlsMinimum: "TLSv1.1" is not allowed; use one of TLSv1, TLSv1.2',
    ]],
    ["fails on AUTH on port 25 while it offers TLS 1.0", { "mailfleet:allowAuthOnPort25": "true", "mailfleet:dkimSigning": "false" }, [
      'mailfleet:smtpInboundTlsMinimum: "TLSv1" would let passwords travel over TLS 1.0/1.1 on port 25 (mailfleet:allowAuthOnPort25 is true); set it to "TLSv1.2" or turn allowAuthOnPort25 off',
    ]],
    ["fails on policies that fall back to clear text", { "mailfleet:smtpTlsPolicies": JSON.stringify(["partner.example may", "other.example dane", "x.example none"]) }, [
      'mailfleet:smtpTlsPolicies[0]: "partner.example may": level may is the default (opportunistic TLS) and falls back to clear text; leave the destination out',
      'mailfleet:smtpTlsPolicies[1]: "other.example dane": level dane falls back to clear text when the peer publishes no TLSA record; use dane-only',
      'mailfleet:smtpTlsPolicies[2]: "x.example none": level none sends in clear text; leave the destination out to keep opportunistic TLS',
    ]],
    ["fails on dane-only without a validating resolver", { "mailfleet:smtpTlsPolicies": JSON.stringify(["partner.example dane-only"]) }, [
      'mailfleet:smtpTlsPolicies[0]: "partner.example dane-only": dane-only needs a DNSSEC-validating resolver on the host; set mailfleet:dnssecResolver to true once it has one, or use secure or fingerprint',
    ]],
    ["fails on fingerprint policies without a valid pin", { "mailfleet:smtpTlsPolicies": JSON.stringify(["a.example fingerprint", "b.example fingerprint match=ab:cd"]) }, [
      'mailfleet:smtpTlsPolicies[0]: "a.example fingerprint": level fingerprint needs match= with the peer\'s SHA-256 certificate or public-key fingerprint (openssl x509 -noout -fingerprint -sha256)',
      'mailfleet:smtpTlsPolicies[1]: "b.example fingerprint match=ab:cd": a fingerprint match= value is not a SHA-256 digest (32 hex bytes, with or without colons)',
    ]],
    ["fails on a bad destination, a duplicate and an unknown attribute", { "mailfleet:smtpTlsPolicies": JSON.stringify(["exa mple.com encrypt", "p.example encrypt", "P.example secure", "q.example encrypt protocols=TLSv1"]) }, [
      'mailfleet:smtpTlsPolicies[0]: "exa mple.com encrypt": destination "exa" is not a domain, .domain, [host] or [host]:port (is not a fully qualified domain name (it needs at least two labels, e.g. example.com))',
      'mailfleet:smtpTlsPolicies[2]: "P.example secure": p.example is listed twice',
      'mailfleet:smtpTlsPolicies[3]: "q.example encrypt protocols=TLSv1": "protocols=TLSv1" is not a match= attribute (the only one mailfleet accepts)',
    ]],
    ["fails on a policy for the smarthost, whose level mailfleet sets", { "mailfleet:smtpTlsPolicies": JSON.stringify(["[smtp.provider.example]:587 encrypt"]) }, [
      'mailfleet:smtpTlsPolicies[0]: "[smtp.provider.example]:587" is the smarthost (mailfleet:relayHost), whose TLS level mailfleet sets (secure for a name, encrypt for an address); remove the entry',
    ]],
  ];
  for (const [name, change, expected] of cases) {
    it(name, () => assert.deepEqual(problems(change), expected));
  }

  it("refuses DNS-01 through Cloudflare, whose token the host would have to keep", () => {
    assert.deepEqual(configProblems({ ...cloudflareStack.config, ...acme, "mailfleet:acmeChallenge": "dns-01" }, new Set(cloudflareStack.secretKeys)), [
      'mailfleet:acmeChallenge: "dns-01" needs mailfleet:dnsProvider rfc2136, not "cloudflare": lego on the host publishes the challenge record through that server with its TSIG key (DNS-01 through Cloudflare is not supported: the host would have to keep the API token, which can edit every record of the zones); set dnsProvider to rfc2136 (with dnsServer and the key), or use "http-01"',
    ]);
  });

  it("accepts dane-only once the resolver validates DNSSEC", () => {
    assert.deepEqual(problems({ "mailfleet:dnssecResolver": "true", "mailfleet:smtpTlsPolicies": JSON.stringify(["partner.example dane-only"]) }), []);
  });

  it("parses the destination forms Postfix looks up", () => {
    for (const d of ["example.com", ".example.com", "[mx.example.com]", "[mx.example.com]:2525", "[192.0.2.7]", "[2001:db8::7]:25"]) {
      assert.equal(typeof parsePolicy(`${d} encrypt`), "object", d);
    }
    assert.match(String(parsePolicy("[mx.example.com]:99999 encrypt")), /has an invalid port/);
  });
});
