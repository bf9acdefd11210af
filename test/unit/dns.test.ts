// DNS as data: the stack's DNS keys (every refusal with its exact message, secrets never echoed),
// the records derived from a stack, their zone-file form, and the request mailfleet-dns reads.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configProblems } from "../tools/config-problems";
import { readConfig } from "../../components/config";
import { ptrWarnings, zoneOf } from "../../components/config/dns";
import { mailRecords, txtRdata, zoneLine } from "../../components/dns/records";
import { updateRequest } from "../../components/dns/rfc2136";

const TSIG = "c2VjcmV0LXRzaWcta2V5LWZvci10ZXN0cy0xMjM0NTY=";

const CLOUDFLARE = {
  "mailfleet:dnsProvider": "cloudflare",
  "mailfleet:cloudflareApiToken": "cf-token-0123456789abcdefghijklmnopqrstuv",
  "mailfleet:cloudflareZoneIds": JSON.stringify(["example.com=0123456789abcdef0123456789abcdef", "example.net=fedcba9876543210fedcba9876543210"]),
  "mailfleet:publicIpv4": "192.0.2.25",
  "mailfleet:publicIpv6": "2001:db8::25",
};

function base(): Record<string, string> {
  return {
    "mailfleet:hostAddress": "192.0.2.10",
    "mailfleet:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    "mailfleet:sshHostKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
    "mailfleet:hostname": "mail.example.net",
    "mailfleet:domains": JSON.stringify(["example.com"]),
    "mailfleet:mailboxes": JSON.stringify(["john@example.com"]),
    "mailfleet:mailboxPasswords": "john@example.com: correct-horse-battery\n",
  };
}
const SECRETS = new Set(["mailfleet:sshPrivateKey", "mailfleet:mailboxPasswords", "mailfleet:dnsTsigSecret", "mailfleet:cloudflareApiToken"]);
const RFC2136 = {
  "mailfleet:dnsProvider": "rfc2136",
  "mailfleet:dnsServer": "192.0.2.53",
  "mailfleet:dnsTsigKeyName": "mailfleet-acme",
  "mailfleet:dnsTsigSecret": TSIG,
  "mailfleet:publicIpv4": "192.0.2.25",
  "mailfleet:publicIpv6": "2001:db8::25",
};

const problems = (extra: Record<string, string>, secrets: ReadonlySet<string> = SECRETS) => configProblems({ ...base(), ...extra }, secrets);

describe("DNS config", () => {
  it("defaults to no provider, DMARC p=none and a TTL of an hour", () => {
    const { dns } = readConfig("s", base(), SECRETS);
    assert.deepEqual(dns, { ptr: {}, dmarc: { policy: "none" }, ttl: 3600, provider: { kind: "none" } });
  });

  it("reads an RFC 2136 server with its port, and writes IPv6 addresses one way", () => {
    const { dns } = readConfig("s", {
      ...base(), ...RFC2136,
      "mailfleet:dnsServer": "[2001:db8::53]:5353",
      "mailfleet:publicIpv6": "2001:DB8:0:0:0:0:0:25",
      "mailfleet:publicIpv4": "192.0.2.25",
    }, SECRETS);
    assert.deepEqual(dns.provider, { kind: "rfc2136", server: "2001:db8::53", port: 5353, keyName: "mailfleet-acme", algorithm: "hmac-sha256", secret: TSIG });
    assert.equal(dns.publicIpv6, "2001:db8::25");
    assert.equal(dns.publicIpv4, "192.0.2.25");
    assert.equal(readConfig("s", { ...base(), ...RFC2136, "mailfleet:dnsServer": "2001:db8::53" }, SECRETS).dns.provider.kind, "rfc2136");
  });

  const cases: Array<[string, Record<string, string>, string[]]> = [
    ["refuses rfc2136 without its server and key", { "mailfleet:dnsProvider": "rfc2136", "mailfleet:publicIpv4": "192.0.2.25", "mailfleet:ipv4Only": "true" }, [
      'mailfleet:dnsServer: is empty, but mailfleet:dnsProvider is rfc2136; set the primary server of the zones, e.g. "192.0.2.53" or "ns1.example.net"',
      "mailfleet:dnsTsigKeyName: is empty, but mailfleet:dnsProvider is rfc2136; set the name of the TSIG key the server accepts updates with",
      "mailfleet:dnsTsigSecret: is empty, but mailfleet:dnsProvider is rfc2136; set it with pulumi config set --secret mailfleet:dnsTsigSecret (the secret tsig-keygen printed)",
    ]],
    ["refuses a TSIG secret stored in plain text, without showing it", RFC2136, [
      "mailfleet:dnsTsigSecret: is stored in plain text; store it as a secret: pulumi config set --secret mailfleet:dnsTsigSecret",
    ]],
    ["refuses a TSIG secret that is not base64, without showing it", { ...RFC2136, "mailfleet:dnsTsigSecret": "not base64!" }, [
      'mailfleet:dnsTsigSecret: is not a base64 TSIG secret (tsig-keygen prints one, e.g. in its secret "..."; line)',
    ]],
    ["refuses server settings without a provider", { "mailfleet:dnsServer": "192.0.2.53" }, [
      'mailfleet:dnsServer: is set but mailfleet:dnsProvider is "none", so nothing would use it; set mailfleet:dnsProvider to rfc2136 or remove mailfleet:dnsServer',
    ]],
    ["refuses a bad server, key name and algorithm", { ...RFC2136, "mailfleet:dnsServer": "ns1..example:53", "mailfleet:dnsTsigKeyName": "my key", "mailfleet:dnsTsigAlgorithm": "hmac-md5" }, [
      'mailfleet:dnsServer: "ns1..example:53" is neither an IP address nor a host name',
      'mailfleet:dnsTsigKeyName: "my key" is not a key name (letters, digits, "-", "_" and dots, as in named.conf\'s key statement)',
      'mailfleet:dnsTsigAlgorithm: "hmac-md5" is not allowed; use one of hmac-sha256, hmac-sha384, hmac-sha512',
    ]],
    ["refuses addresses of the wrong family, mapped or link-local", { "mailfleet:publicIpv4": "2001:db8::1", "mailfleet:publicIpv6": "::ffff:192.0.2.1" }, [
      'mailfleet:publicIpv4: "2001:db8::1" is not an IPv4 address',
      'mailfleet:publicIpv6: "::ffff:192.0.2.1" is an IPv4-mapped address; set the IPv4 address in mailfleet:publicIpv4 instead',
    ]],
    ["refuses a link-local IPv6 address", { "mailfleet:publicIpv6": "fe80::1" }, [
      'mailfleet:publicIpv6: "fe80::1" is link-local, which no other host can reach; set the host\'s global IPv6 address',
    ]],
    ["refuses a bad DMARC policy and report address", { "mailfleet:dmarcPolicy": "strict", "mailfleet:dmarcReportAddress": "reports" }, [
      'mailfleet:dmarcReportAddress: "reports" is not an e-mail address of the form local@domain',
      'mailfleet:dmarcPolicy: "strict" is not allowed; use one of none, quarantine, reject',
    ]],
    ["requires the smarthost's SPF include when the records are published", { ...RFC2136, "mailfleet:relayHost": "smtp.provider.example" }, [
      "mailfleet:relaySpfInclude: is empty, but mail leaves through smtp.provider.example and mailfleet:dnsProvider publishes the SPF records; set the provider's SPF domain (its documentation names it, e.g. spf.provider.example)",
    ]],
    ["requires the addresses SPF allows when the records are published and the host sends itself", { ...RFC2136, "mailfleet:publicIpv4": "", "mailfleet:publicIpv6": "" }, [
      "mailfleet:publicIpv4: is empty, but mailfleet:dnsProvider publishes the host's records and SPF allows only the addresses published for it; set the host's public IPv4 address",
      "mailfleet:publicIpv6: is empty, but the host also sends over IPv6 (mailfleet:ipv4Only is false) and SPF allows only the addresses published for it, so that mail would fail SPF; set the host's public IPv6 address, or set mailfleet:ipv4Only to true",
    ]],
    ["refuses an IPv6 address for an IPv4-only host", { "mailfleet:ipv4Only": "true", "mailfleet:publicIpv6": "2001:db8::25" }, [
      'mailfleet:publicIpv6: "2001:db8::25" is set but mailfleet:ipv4Only is true: an AAAA record would send mail and clients to an address the host does not serve; remove publicIpv6 or turn ipv4Only off',
    ]],
    ["refuses a DMARC report address a mailto: URI cannot carry as it is", { "mailfleet:dmarcReportAddress": "a!b@example.com" }, [
      'mailfleet:dmarcReportAddress: "a!b@example.com" has a local part with characters a DMARC record cannot carry as they are; use letters, digits, ".", "_", "+" and "-"',
    ]],
    ["refuses Cloudflare without a token and zones", { "mailfleet:dnsProvider": "cloudflare", "mailfleet:publicIpv4": "192.0.2.25", "mailfleet:publicIpv6": "2001:db8::25" }, [
      "mailfleet:cloudflareApiToken: is empty, but mailfleet:dnsProvider is cloudflare; set it with pulumi config set --secret mailfleet:cloudflareApiToken (a token with DNS edit rights on the zones)",
      "mailfleet:cloudflareZoneIds: is empty, but mailfleet:dnsProvider is cloudflare; list each zone as zone.example=ZONE_ID",
    ]],
    ["refuses a token stored in plain text, a bad zone entry and a name without a zone", {
      ...CLOUDFLARE,
      "mailfleet:cloudflareApiToken": "plain-token-0123456789abcdefghij",
      "mailfleet:cloudflareZoneIds": JSON.stringify(["example.com=0123456789abcdef0123456789abcdef", "example.net=xyz"]),
    }, [
      "mailfleet:cloudflareApiToken: is stored in plain text; store it as a secret: pulumi config set --secret mailfleet:cloudflareApiToken",
      'mailfleet:cloudflareZoneIds[1]: "example.net=xyz" is not of the form zone.example=ZONE_ID (a 32-digit hex zone ID)',
      'mailfleet:cloudflareZoneIds: has no zone for "mail.example.net", whose records mailfleet publishes; add that zone (its name and ID)',
    ]],
    ["refuses Cloudflare settings under another provider", { ...RFC2136, "mailfleet:cloudflareZoneIds": JSON.stringify(["example.com=0123456789abcdef0123456789abcdef"]) }, [
      'mailfleet:cloudflareZoneIds: is set but mailfleet:dnsProvider is "rfc2136", so nothing would use it; set mailfleet:dnsProvider to cloudflare or remove mailfleet:cloudflareZoneIds',
    ]],
    ["refuses an SPF include without a smarthost", { "mailfleet:relaySpfInclude": "spf.provider.example" }, [
      "mailfleet:relaySpfInclude: is set but mailfleet:relayHost is empty; the include: names the smarthost provider's senders, so set the smarthost or remove it",
    ]],
  ];
  it("reads Cloudflare zones and picks the longest zone for a name", () => {
    const { dns } = readConfig("s", { ...base(), ...CLOUDFLARE, "mailfleet:cloudflareZoneIds": JSON.stringify(["example.com=0123456789abcdef0123456789abcdef", "example.net=fedcba9876543210fedcba9876543210", "mail.example.net=00000000000000000000000000000001"]) }, SECRETS);
    assert.equal(dns.provider.kind, "cloudflare");
    if (dns.provider.kind !== "cloudflare") return;
    assert.equal(zoneOf(dns.provider.zones, "mail.example.net")?.id, "00000000000000000000000000000001");
    assert.equal(zoneOf(dns.provider.zones, "_dmarc.example.com")?.name, "example.com");
    assert.equal(zoneOf(dns.provider.zones, "badexample.com"), undefined);
  });

  it("accepts an SPF domain with an underscore label, and no IPv6 on an IPv4-only host", () => {
    const c = readConfig("s", { ...base(), ...RFC2136, "mailfleet:relayHost": "smtp.provider.example", "mailfleet:relaySpfInclude": "_spf.provider.example", "mailfleet:publicIpv6": "", "mailfleet:ipv4Only": "true" }, SECRETS);
    assert.equal(c.dns.relaySpfInclude, "_spf.provider.example");
  });

  for (const [name, extra, expected] of cases) {
    it(name, () => {
      const got = problems(extra, name.includes("plain text") ? new Set(["mailfleet:sshPrivateKey", "mailfleet:mailboxPasswords"]) : SECRETS);
      assert.deepEqual(got, expected);
      for (const p of got) assert.ok(!p.includes(TSIG) && !p.includes("not base64!"), `a problem shows the secret: ${p}`);
    });
  }
});

describe("mail records", () => {
  const input = {
    hostname: "mail.example.net",
    domains: ["example.com", "example.org"],
    ipv4: "192.0.2.25",
    ipv6: "2001:db8::25",
    dmarc: { policy: "quarantine" as const, reportAddress: "dmarc@example.com" },
    tlsaSpkiSha256: "AB".repeat(32),
  };

  it("derives A, AAAA, the host's SPF, TLSA, and MX, SPF and DMARC per domain", () => {
    assert.deepEqual(mailRecords(input).map((r) => zoneLine(r, 300)), [
      "mail.example.net. 300 A 192.0.2.25",
      "mail.example.net. 300 AAAA 2001:db8::25",
      'mail.example.net. 300 TXT "v=spf1 a -all"',
      `_25._tcp.mail.example.net. 300 TLSA 3 1 1 ${"ab".repeat(32)}`,
      "example.com. 300 MX 10 mail.example.net.",
      'example.com. 300 TXT "v=spf1 mx -all"',
      '_dmarc.example.com. 300 TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"',
      "example.org. 300 MX 10 mail.example.net.",
      'example.org. 300 TXT "v=spf1 mx -all"',
      '_dmarc.example.org. 300 TXT "v=DMARC1; p=quarantine; rua=mailto:dmarc@example.com"',
    ]);
  });

  it("publishes no address record it was not given, and names the smarthost's senders in SPF", () => {
    const rs = mailRecords({ hostname: "mail.example.net", domains: ["example.com"], dmarc: { policy: "none" }, relayHost: { host: "smtp.provider.example" }, relaySpfInclude: "spf.provider.example" });
    assert.deepEqual(rs.filter((r) => r.type === "A" || r.type === "AAAA" || r.type === "TLSA"), []);
    assert.deepEqual(rs.filter((r) => r.name === "example.com" && r.type === "TXT").map((r) => r.value), ["v=spf1 include:spf.provider.example -all"]);
    // The host name's own SPF, which SRS senders (and bounces' HELO) are checked against.
    assert.deepEqual(rs.filter((r) => r.name === "mail.example.net" && r.type === "TXT").map((r) => r.value), ["v=spf1 a include:spf.provider.example -all"]);
    assert.deepEqual(rs.filter((r) => r.name === "_dmarc.example.com").map((r) => r.value), ["v=DMARC1; p=none"]);
  });

  it("quotes TXT values and splits them into strings of 255 octets", () => {
    assert.equal(txtRdata('say "hi" \\ there'), '"say \\"hi\\" \\\\ there"');
    const long = txtRdata("k".repeat(300));
    assert.equal(long, `"${"k".repeat(255)}" "${"k".repeat(45)}"`);
    assert.equal(txtRdata(""), '""');
  });
});

describe("RFC 2136 request", () => {
  it("carries the server, key, TTL and records, SPF marked so only SPF is replaced, with a count", () => {
    const records = mailRecords({ hostname: "mail.example.net", domains: ["example.com"], ipv4: "192.0.2.25", dmarc: { policy: "none" } });
    const text = updateRequest({ server: "192.0.2.53", port: 53, keyName: "k1", algorithm: "hmac-sha256", secret: TSIG }, records, 600);
    assert.equal(text, [
      "server 192.0.2.53 53",
      "key hmac-sha256 k1",
      `secret ${TSIG}`,
      "ttl 600",
      "rr mail.example.net A 192.0.2.25",
      'rr mail.example.net SPF "v=spf1 a -all"',
      "rr example.com MX 10 mail.example.net.",
      'rr example.com SPF "v=spf1 mx -all"',
      'rr _dmarc.example.com TXT "v=DMARC1; p=none"',
      "@@done 5",
      "",
    ].join("\n"));
  });
});

describe("address family config", () => {
  it("reads routes in both lists, with their families", () => {
    const c = readConfig("s", { ...base(), "mailfleet:forceIpv4Domains": JSON.stringify(["gmail.example", ".gmail.example"]), "mailfleet:forceIpv6Domains": JSON.stringify(["v6lab.example"]) }, SECRETS);
    assert.deepEqual(c.policy.addressFamilyRoutes, [
      { destination: "gmail.example", family: 4 },
      { destination: ".gmail.example", family: 4 },
      { destination: "v6lab.example", family: 6 },
    ]);
  });

  const cases: Array<[string, Record<string, string>, string[]]> = [
    ["refuses a hosted domain, the host name and a subdomain pattern that covers the host", {
      "mailfleet:forceIpv4Domains": JSON.stringify(["example.com", "mail.example.net", ".example.net"]),
    }, [
      'mailfleet:forceIpv4Domains[0]: "example.com" covers "example.com", which this host delivers itself (no SMTP, no address family); remove the entry',
      'mailfleet:forceIpv4Domains[1]: "mail.example.net" covers "mail.example.net", which this host delivers itself (no SMTP, no address family); remove the entry',
      'mailfleet:forceIpv4Domains[2]: ".example.net" covers "mail.example.net", which this host delivers itself (no SMTP, no address family); remove the entry',
    ]],
    ["refuses a destination in both lists, and a duplicate", {
      "mailfleet:forceIpv4Domains": JSON.stringify(["gmail.example", "gmail.example"]),
      "mailfleet:forceIpv6Domains": JSON.stringify(["gmail.example"]),
    }, [
      'mailfleet:forceIpv4Domains[1]: "gmail.example" is already forced to IPv4; remove the duplicate',
      'mailfleet:forceIpv6Domains[0]: "gmail.example" is already forced to IPv4 in the other list; keep it in one of them',
    ]],
    ["refuses IPv6 settings on an IPv4-only host", {
      "mailfleet:ipv4Only": "true",
      "mailfleet:smtpBindAddress6": "2001:db8::25",
      "mailfleet:forceIpv6Domains": JSON.stringify(["v6lab.example"]),
    }, [
      "mailfleet:smtpBindAddress6: is set but mailfleet:ipv4Only is true, so Postfix sends no IPv6; remove one of them",
      'mailfleet:forceIpv6Domains[0]: "v6lab.example" is forced to IPv6, but mailfleet:ipv4Only is true; remove the entry or turn ipv4Only off',
    ]],
    ["refuses source addresses of the wrong family", { "mailfleet:smtpBindAddress": "2001:db8::25", "mailfleet:smtpBindAddress6": "192.0.2.25" }, [
      'mailfleet:smtpBindAddress: "2001:db8::25" is not an IPv4 address (an IPv6 source address goes in mailfleet:smtpBindAddress6)',
      'mailfleet:smtpBindAddress6: "192.0.2.25" is not an IPv6 address',
    ]],
    ["refuses forced families with a smarthost", { "mailfleet:relayHost": "smtp.provider.example", "mailfleet:forceIpv4Domains": JSON.stringify(["gmail.example"]) }, [
      "mailfleet:forceIpv4Domains: is set, but all mail leaves through the smarthost smtp.provider.example (mailfleet:relayHost), so no destination is reached directly; remove the list, or the smarthost",
    ]],
    ["refuses a trusted /64 that holds the public IPv6 address", { "mailfleet:publicIpv6": "2001:db8:1::25", "mailfleet:trustedNetworks": JSON.stringify(["2001:db8:1::/64"]) }, [
      'mailfleet:trustedNetworks[0]: "2001:db8:1::/64" contains the host\'s own address 2001:db8:1::25 (mailfleet:publicIpv6): a provider\'s /64 is shared with its other customers, who could all relay through this host; list your own hosts (/128) or a prefix longer than /64',
    ]],
  ];
  for (const [name, extra, expected] of cases) it(name, () => assert.deepEqual(problems(extra), expected));
});

describe("stated PTR names", () => {
  it("warns about a PTR that is not the host name, per family, and is quiet when it matches", () => {
    const { dns } = readConfig("s", { ...base(), "mailfleet:publicIpv4": "192.0.2.25", "mailfleet:publicIpv4Ptr": "mail.example.net.", "mailfleet:publicIpv6": "2001:db8::25", "mailfleet:publicIpv6Ptr": "25.static.provider.example" }, SECRETS);
    assert.deepEqual(ptrWarnings("mail.example.net", dns), [
      "mailfleet:publicIpv6Ptr: the PTR of 2001:db8::25 names 25.static.provider.example, not the host name mail.example.net: receivers that check forward-confirmed reverse DNS will refuse or junk mail sent over IPv6; ask the address's provider to set it to mail.example.net, or pin the affected domains to IPv4 (mailfleet:forceIpv4Domains)",
    ]);
  });

  it("refuses a PTR name without its address, and a malformed one", () => {
    assert.deepEqual(problems({ "mailfleet:publicIpv4Ptr": "mail.example.net", "mailfleet:publicIpv6": "2001:db8::25", "mailfleet:publicIpv6Ptr": "not a name" }), [
      "mailfleet:publicIpv4Ptr: is set, but mailfleet:publicIpv4 is empty; state the address too, or remove mailfleet:publicIpv4Ptr",
      'mailfleet:publicIpv6Ptr: "not a name" contains white space',
    ]);
  });
});
