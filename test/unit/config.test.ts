// Stack config validation: every error case with its exact message, all problems reported at
// once, and no secret value ever echoed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configProblems } from "../tools/config-problems";
import { readConfig } from "../../components/config";

const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
const HOSTKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const SECRET_PW = "correct-horse-battery";

function base(): Record<string, string> {
  return {
    "mailfleet:hostAddress": "192.0.2.10",
    "mailfleet:sshPrivateKey": KEY,
    "mailfleet:sshHostKey": HOSTKEY,
    "mailfleet:hostname": "mail.example.net",
    "mailfleet:domains": JSON.stringify(["example.com", "example.org"]),
    "mailfleet:mailboxes": JSON.stringify(["john@example.com", "mary@example.org"]),
    "mailfleet:mailboxPasswords": `john@example.com: ${SECRET_PW}\nmary@example.org: "another-long-pw"\n`,
    "mailfleet:aliases": JSON.stringify(["info@example.com: john@example.com, mary@example.org"]),
  };
}
const SECRETS = new Set(["mailfleet:sshPrivateKey", "mailfleet:mailboxPasswords"]);

const problems = (raw: Record<string, string>, secrets: ReadonlySet<string> = SECRETS) => configProblems(raw, secrets);

describe("readConfig", () => {
  it("accepts a complete config and applies defaults", () => {
    const c = readConfig("acme-prod", base(), SECRETS);
    assert.equal(c.host.port, 22);
    assert.equal(c.host.user, "root");
    assert.deepEqual(c.directory.domains, ["example.com", "example.org"]);
    assert.deepEqual(c.directory.mailboxes.map((m) => [m.address, m.local, m.domain]), [
      ["john@example.com", "john", "example.com"],
      ["mary@example.org", "mary", "example.org"],
    ]);
    assert.equal(c.directory.mailboxes[0].password, SECRET_PW);
    assert.equal(c.directory.postmaster, "john@example.com");
    assert.deepEqual(c.directory.aliases, [{ source: "info@example.com", targets: ["john@example.com", "mary@example.org"] }]);
    assert.equal(c.tls.keyBits, 2048);
    assert.equal(c.passwordHashRounds, 100000);
  });

  it("normalises trusted networks to Postfix syntax", () => {
    const c = readConfig("s", { ...base(), "mailfleet:trustedNetworks": JSON.stringify(["192.0.2.0/24", "2001:DB8:1::/48", "[2001:db8:2::]/64"]) }, SECRETS);
    assert.deepEqual(c.policy.trustedNetworks, ["192.0.2.0/24", "[2001:db8:1::]/48", "[2001:db8:2::]/64"]);
  });

  const cases: Array<[string, Record<string, string | undefined>, string[]]> = [
    ["fails on a domain with a space", { "mailfleet:domains": JSON.stringify(["example.com", "exa mple.org"]) }, [
      'mailfleet:domains[1]: "exa mple.org" contains white space',
      'mailfleet:mailboxes[1]: "mary@example.org" is in domain "example.org", which is not in mailfleet:domains; add the domain or fix the address',
    ]],
    ["fails on a duplicate domain", { "mailfleet:domains": JSON.stringify(["example.com", "example.org", "example.com"]) }, [
      'mailfleet:domains[2]: "example.com" is listed twice; remove the duplicate',
    ]],
    ["fails on a hostname that is not a FQDN", { "mailfleet:hostname": "mail" }, [
      'mailfleet:hostname: "mail" is not a fully qualified domain name (it needs at least two labels, e.g. example.com); the mail host needs a fully qualified name such as mail.example.net',
    ]],
    ["fails on a hosted domain equal to the hostname", { "mailfleet:domains": JSON.stringify(["example.com", "example.org", "mail.example.net"]) }, [
      'mailfleet:domains[2]: "mail.example.net" is the host name; a hosted domain must differ from mailfleet:hostname (Postfix must not list a domain in both mydestination and virtual_mailbox_domains)',
    ]],
    ["fails on a duplicate mailbox", { "mailfleet:mailboxes": JSON.stringify(["john@example.com", "mary@example.org", "john@example.com"]) }, [
      'mailfleet:mailboxes[2]: "john@example.com" duplicates mailfleet:mailboxes[0]; remove one',
    ]],
    ["fails on an upper-case or plus mailbox", { "mailfleet:mailboxes": JSON.stringify(["John@example.com", "mary+x@example.org"]) }, [
      'mailfleet:mailboxes[0]: "John@example.com" has upper-case letters; write addresses in lower case',
      'mailfleet:mailboxes[1]: "mary+x@example.org" uses "+" in the local part, which is reserved for plus-addressing (user+tag@domain reaches user@domain)',
      'mailfleet:mailboxPasswords[john@example.com]: has a password for "john@example.com", which is not in mailfleet:mailboxes; add the mailbox or remove the password',
      'mailfleet:mailboxPasswords[mary@example.org]: has a password for "mary@example.org", which is not in mailfleet:mailboxes; add the mailbox or remove the password',
      'mailfleet:aliases[0]: target "john@example.com" is in a hosted domain but is neither a mailbox nor an alias; add it to mailfleet:mailboxes or fix the target',
      'mailfleet:aliases[0]: target "mary@example.org" is in a hosted domain but is neither a mailbox nor an alias; add it to mailfleet:mailboxes or fix the target',
    ]],
    ["fails on an alias to an unknown hosted target", { "mailfleet:aliases": JSON.stringify(["info@example.com: nobody@example.com"]) }, [
      'mailfleet:aliases[0]: target "nobody@example.com" is in a hosted domain but is neither a mailbox nor an alias; add it to mailfleet:mailboxes or fix the target',
    ]],
    ["fails on a catch-all and on an alias hiding a mailbox", { "mailfleet:aliases": JSON.stringify(["@example.com: john@example.com", "john@example.com: mary@example.org"]) }, [
      'mailfleet:aliases[0]: "@example.com" is a catch-all; catch-alls defeat recipient checks at RCPT time and create backscatter, list the addresses instead',
      'mailfleet:aliases[1]: alias "john@example.com" is also a mailbox; an alias would hide the mailbox, remove one of them',
    ]],
    ["fails on an alias loop", { "mailfleet:aliases": JSON.stringify(["a@example.com: b@example.com", "b@example.com: a@example.com"]) }, [
      'mailfleet:aliases[0]: alias "a@example.com" only loops back to itself and delivers nowhere; point it at a mailbox',
      'mailfleet:aliases[1]: alias "b@example.com" only loops back to itself and delivers nowhere; point it at a mailbox',
    ]],
    ["fails on a malformed alias", { "mailfleet:aliases": JSON.stringify(["info@example.com john@example.com"]) }, [
      'mailfleet:aliases[0]: "info@example.com john@example.com" is not of the form "alias@domain: target[, target...]"',
    ]],
    ["fails on invalid CIDRs and an open-relay network", { "mailfleet:trustedNetworks": JSON.stringify(["192.0.2.1/24", "10.0.0.0/33", "0.0.0.0/0", "fe80::zz/64", "192.0.2.0"]) }, [
      'mailfleet:trustedNetworks[0]: "192.0.2.1/24" has host bits set; the network is 192.0.2.0/24',
      'mailfleet:trustedNetworks[1]: "10.0.0.0/33" has a prefix length /33 larger than 32',
      'mailfleet:trustedNetworks[2]: "0.0.0.0/0" trusts every address on the Internet: that is an open relay; list only your own networks',
      'mailfleet:trustedNetworks[3]: "fe80::zz/64" is not a network in CIDR notation (e.g. 192.0.2.0/24 or 2001:db8::/64)',
      'mailfleet:trustedNetworks[4]: "192.0.2.0" is not a network in CIDR notation (e.g. 192.0.2.0/24 or 2001:db8::/64)',
    ]],
    ["fails on a missing secret", { "mailfleet:sshPrivateKey": undefined, "mailfleet:mailboxPasswords": undefined }, [
      "mailfleet:sshPrivateKey: is required (SSH private key (OpenSSH or PEM) for the login: pulumi config set --secret mailfleet:sshPrivateKey < key.)",
      'mailfleet:mailboxPasswords: is required (YAML map of mailbox address to password, one secret: pulumi config set --secret mailfleet:mailboxPasswords < passwords.yaml. Stored on the host only as SHA512-CRYPT hashes.)',
    ]],
    ["fails on a mailbox without a password and a short password", { "mailfleet:mailboxPasswords": "john@example.com: short\n" }, [
      "mailfleet:mailboxPasswords[john@example.com]: is shorter than 10 characters; use a longer password",
      'mailfleet:mailboxPasswords: has no password for mailbox "mary@example.org"; add "mary@example.org: <password>" to the secret',
    ]],
    ["fails on a bad host address, port, user and host key", {
      "mailfleet:hostAddress": "300.1.2.3",
      "mailfleet:sshPort": "70000",
      "mailfleet:sshUser": "Root User",
      "mailfleet:sshHostKey": `mail.example.net ${HOSTKEY}`,
    }, [
      'mailfleet:hostAddress: "300.1.2.3" is not a valid IPv4 address',
      "mailfleet:sshPort: 70000 is out of range; use 1 to 65535",
      'mailfleet:sshUser: "Root User" is not a valid Unix user name',
      'mailfleet:sshHostKey: "mail.example.net ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsa..." looks like a known_hosts line; drop the host name field and keep "<type> <base64>"',
    ]],
    ["fails on an unknown key with a suggestion", { "mailfleet:mailboxs": "[]" }, [
      "mailfleet:mailboxs: unknown config key; did you mean mailfleet:mailboxes?",
    ]],
    ["fails on a list given as a string and a non-integer", { "mailfleet:domains": "example.com", "mailfleet:tlsKeyBits": "big" }, [
      "mailfleet:domains: \"example.com\" is not a list; set it as a YAML list in the stack file or with pulumi config set --path 'mailfleet:domains[0]' VALUE",
      'mailfleet:tlsKeyBits: "big" is not an integer',
    ]],
  ];
  for (const [name, change, expected] of cases) {
    it(name, () => {
      const raw = base();
      for (const [k, v] of Object.entries(change)) {
        if (v === undefined) delete raw[k];
        else raw[k] = v;
      }
      assert.deepEqual(problems(raw), expected);
    });
  }

  it("reads the mail policy keys", () => {
    const c = readConfig("s", {
      ...base(),
      "mailfleet:relayHost": "smtp.provider.example",
      "mailfleet:relayHostUsername": "acme",
      "mailfleet:relayHostPassword": "relay-secret",
      "mailfleet:blockedSenders": JSON.stringify(["hacked-list.example: Mail from this list is refused", "spammer@bad.example: 550 5.7.1 Sender blocked", "quiet.example"]),
      "mailfleet:blockedClients": JSON.stringify(["198.51.100.0/24: Client network blocked", "2001:db8:bad::/48: go away", "203.0.113.7/32"]),
      "mailfleet:allowAuthOnPort25": "true",
      "mailfleet:dkimSigning": "false",
      "mailfleet:smtpInboundTlsMinimum": "TLSv1.2",
      "mailfleet:postscreenDnsblSites": JSON.stringify(["zen.spamhaus.org=127.0.0.[2..11]*3"]),
    }, new Set([...SECRETS, "mailfleet:relayHostPassword"]));
    assert.deepEqual(c.relay, { host: "smtp.provider.example", port: 587, nexthop: "[smtp.provider.example]:587", username: "acme", password: "relay-secret" });
    assert.deepEqual(c.policy.blockedSenders, [
      { key: "hacked-list.example", action: "REJECT 5.7.1 Mail from this list is refused" },
      { key: "spammer@bad.example", action: "550 5.7.1 Sender blocked" },
      { key: "quiet.example", action: "REJECT 5.7.1 Access denied by postmaster" },
    ]);
    assert.deepEqual(c.policy.blockedClients, [
      { key: "198.51.100.0/24", action: "REJECT 5.7.1 Client network blocked" },
      { key: "2001:db8:bad::/48", action: "REJECT 5.7.1 go away" },
      { key: "203.0.113.7/32", action: "REJECT 5.7.1 Access denied by postmaster" },
    ]);
    assert.equal(c.policy.allowAuthOnPort25, true);
    assert.equal(c.policy.headerPrivacy, true);
    assert.deepEqual(c.policy.headerPrivacyStrip, ["X-Originating-IP", "X-Mailer", "User-Agent", "X-PHP-Originating-Script"]);
    assert.equal(c.policy.bounceQueueLifetimeDays, 1);
    for (const [text, nexthop] of [["[192.0.2.1]:2525", "[192.0.2.1]:2525"], ["smtp.provider.example:25", "[smtp.provider.example]:25"]]) {
      assert.equal(readConfig("s", { ...base(), "mailfleet:relayHost": text }, SECRETS).relay?.nexthop, nexthop);
    }
  });

  const policyCases: Array<[string, Record<string, string>, string[]]> = [
    ["fails on a smarthost on port 465 and credentials without a password", { "mailfleet:relayHost": "smtp.provider.example:465", "mailfleet:relayHostUsername": "acme" }, [
      'mailfleet:relayHost: "smtp.provider.example:465" uses port 465 (implicit TLS), which mailfleet does not support yet; use the provider\'s submission port 587 (STARTTLS)',
      "mailfleet:relayHostPassword: is empty but mailfleet:relayHostUsername is set; set the password with pulumi config set --secret mailfleet:relayHostPassword",
    ]],
    ["fails on smarthost credentials without a smarthost", { "mailfleet:relayHostUsername": "acme" }, [
      "mailfleet:relayHost: is empty but smarthost credentials are set; set the smarthost or remove mailfleet:relayHostUsername/relayHostPassword",
    ]],
    ["fails on blocking a hosted domain, a malformed entry and a network with host bits", {
      "mailfleet:blockedSenders": JSON.stringify(["example.com: no", "bad sender: x"]),
      "mailfleet:blockedClients": JSON.stringify(["198.51.100.1/24: x"]),
    }, [
      'mailfleet:blockedSenders[0]: "example.com" is a hosted domain; blocking it would refuse your own customers\' mail',
      'mailfleet:blockedSenders[1]: "bad sender: x" is not of the form "KEY: reply text"',
      'mailfleet:blockedClients[0]: "198.51.100.1/24: x" has host bits set; the network is 198.51.100.0/24',
    ]],
    ["fails on stripping a header that carries the message", { "mailfleet:headerPrivacyStrip": JSON.stringify(["X-Mailer", "MIME-Version", "Received"]) }, [
      'mailfleet:headerPrivacyStrip[1]: "MIME-Version" carries the message itself and must not be stripped',
      'mailfleet:headerPrivacyStrip[2]: "Received" carries the message itself and must not be stripped (the client\'s own Received hop is removed by headerPrivacy)',
    ]],
    ["fails on a DNSBL without a result filter", { "mailfleet:postscreenDnsblSites": JSON.stringify(["zen.spamhaus.org*3", "bl.spamcop.net=127.0.0.2"]) }, [
      'mailfleet:postscreenDnsblSites[0]: "zen.spamhaus.org*3" has no result filter; a resolver refused by the list answers 127.255.255.254, which would reject all mail: add one such as zen.spamhaus.org=127.0.0.[2..11]',
    ]],
    ["fails on a boolean that is not one", { "mailfleet:blockReadReceipts": "yes" }, [
      'mailfleet:blockReadReceipts: "yes" is not a boolean; use true or false',
    ]],
  ];
  for (const [name, change, expected] of policyCases) {
    it(name, () => assert.deepEqual(problems({ ...base(), ...change }), expected));
  }

  it("accepts external forwarding targets as RFC 5321 allows, and generated role addresses", () => {
    const c = readConfig("s", { ...base(), "mailfleet:aliases": JSON.stringify(["fwd@example.com: Some.One+tag@Gmail.example, postmaster@example.org"]) }, SECRETS);
    assert.deepEqual(c.directory.aliases, [{ source: "fwd@example.com", targets: ["Some.One+tag@Gmail.example", "postmaster@example.org"] }]);
    assert.deepEqual(problems({ ...base(), "mailfleet:aliases": JSON.stringify(["fwd@example.com: a:b@elsewhere.example"]) }), [
      'mailfleet:aliases[0]: target "a:b@elsewhere.example" has an invalid local part "a:b"',
    ]);
  });

  it("keeps a numeric-looking password exactly as written", () => {
    const c = readConfig("s", { ...base(), "mailfleet:mailboxPasswords": "john@example.com: 12345678901234567890\nmary@example.org: 0x1f2e3d4c5b6a\n" }, SECRETS);
    assert.deepEqual(c.directory.mailboxes.map((m) => m.password), ["12345678901234567890", "0x1f2e3d4c5b6a"]);
  });

  const secretCases: Array<[string, string, string[]]> = [
    ["fails on a password YAML would cut at a comment", "john@example.com: correct horse #battery\nmary@example.org: another-long-pw\n", [
      'mailfleet:mailboxPasswords[john@example.com]: contains " #", where YAML starts a comment and would cut the password; quote the password',
    ]],
    ["fails on a mailbox listed twice", "john@example.com: first-long-pw\njohn@example.com: second-long-pw\nmary@example.org: another-long-pw\n", [
      "mailfleet:mailboxPasswords: lists a mailbox twice; keep one password per mailbox",
    ]],
    ["fails on a swapped key and value without showing the key", "Sup3rS3cret-Passw0rd: john@example.com\nmary@example.org: another-long-pw\n", [
      "mailfleet:mailboxPasswords: has a password for an entry whose key is not an e-mail address (not shown), which is not in mailfleet:mailboxes; add the mailbox or remove the password",
      'mailfleet:mailboxPasswords: has no password for mailbox "john@example.com"; add "john@example.com: <password>" to the secret',
    ]],
  ];
  for (const [name, secret, expected] of secretCases) {
    it(name, () => {
      const p = problems({ ...base(), "mailfleet:mailboxPasswords": secret });
      assert.deepEqual(p, expected);
      assert.ok(!p.join("\n").includes("Sup3rS3cret") && !p.join("\n").includes("battery"));
    });
  }

  const refusals: Array<[string, Record<string, string>, string[]]> = [
    ["fails on an alias loop that also has an exit (Postfix defers it forever)", {
      "mailfleet:aliases": JSON.stringify(["a@example.com: b@example.com, john@example.com", "b@example.com: a@example.com"]),
    }, [
      'mailfleet:aliases[0]: alias "a@example.com" is part of a loop (a@example.com -> b@example.com -> a@example.com): Postfix defers mail to it again and again instead of delivering; remove one link of the loop',
      'mailfleet:aliases[1]: alias "b@example.com" is part of a loop (b@example.com -> a@example.com -> b@example.com): Postfix defers mail to it again and again instead of delivering; remove one link of the loop',
    ]],
    ["fails on a loop through the generated abuse@ alias", {
      "mailfleet:postmaster": "team@example.com",
      "mailfleet:aliases": JSON.stringify(["team@example.com: abuse@example.com, john@example.com"]),
    }, [
      'mailfleet:aliases[0]: alias "team@example.com" is part of a loop (team@example.com -> abuse@example.com -> team@example.com): Postfix defers mail to it again and again instead of delivering; remove one link of the loop',
    ]],
    ["fails on a loop between an explicit abuse@ and the postmaster", {
      "mailfleet:postmaster": "abuse@example.com",
      "mailfleet:aliases": JSON.stringify(["abuse@example.com: postmaster@example.com"]),
    }, [
      'mailfleet:aliases[0]: alias "abuse@example.com" only loops back to itself and delivers nowhere; point it at a mailbox',
    ]],
    ["fails on an alias that lists itself next to other targets (backscatter)", { "mailfleet:aliases": JSON.stringify(["info@example.com: info@example.com, john@example.com"]) }, [
      'mailfleet:aliases[0]: alias "info@example.com" lists itself as a target next to others; Postfix would try to deliver to "info@example.com" as well, which has no mailbox, and bounce every message to its sender (backscatter); remove it from its own targets',
    ]],
    ["fails on a password of 512 bytes or more", { "mailfleet:mailboxPasswords": `john@example.com: ${"p".repeat(300)}\u00e9${"q".repeat(210)}\nmary@example.org: another-long-pw\n` }, [
      "mailfleet:mailboxPasswords[john@example.com]: is 512 bytes long; use fewer than 512 bytes",
    ]],
    ["fails on a hosted domain that is one of the host's own names", { "mailfleet:domains": JSON.stringify(["example.com", "example.org", "localhost.example.net"]) }, [
      `mailfleet:domains[2]: "localhost.example.net" is one of the host's own names (localhost.$mydomain, delivered locally by Postfix's mydestination); host mail under another domain`,
    ]],
    ["fails on a control character in the smarthost login", { "mailfleet:relayHost": "smtp.provider.example", "mailfleet:relayHostUsername": "acme\u0007" }, [
      'mailfleet:relayHostUsername: "acme\\u0007" may not contain white space, control characters or ":"',
      "mailfleet:relayHostPassword: is empty but mailfleet:relayHostUsername is set; set the password with pulumi config set --secret mailfleet:relayHostPassword",
    ]],
    ["fails on blocking a parent of a hosted domain", { "mailfleet:domains": JSON.stringify(["example.com", "example.org", "shop.example.net"]), "mailfleet:blockedSenders": JSON.stringify(["example.net: spam"]) }, [
      'mailfleet:blockedSenders[0]: "example.net" is a parent of the hosted domain "shop.example.net", and a blocked domain covers its subdomains: your own customers\' mail would be refused; block the exact sender addresses instead',
    ]],
    ["fails on trusting an IPv4-mapped range or the host's own /64", {
      "mailfleet:hostAddress": "2001:db8:5::10",
      "mailfleet:trustedNetworks": JSON.stringify(["::ffff:0:0/96", "::ffff:192.0.2.0/120", "2001:db8:5::/64", "2001:db8:5::/48", "2001:db8:5::10/128", "2001:db8:6::/64"]),
    }, [
      'mailfleet:trustedNetworks[0]: "::ffff:0:0/96" overlaps the IPv4-mapped range ::ffff:0:0/96, which stands for IPv4 clients; list the IPv4 network itself',
      'mailfleet:trustedNetworks[1]: "::ffff:192.0.2.0/120" overlaps the IPv4-mapped range ::ffff:0:0/96, which stands for IPv4 clients; list the IPv4 network itself',
      'mailfleet:trustedNetworks[2]: "2001:db8:5::/64" contains the host\'s own address 2001:db8:5::10: a provider\'s /64 is shared with its other customers, who could all relay through this host; list your own hosts (/128) or a prefix longer than /64',
      'mailfleet:trustedNetworks[3]: "2001:db8:5::/48" contains the host\'s own address 2001:db8:5::10: a provider\'s /64 is shared with its other customers, who could all relay through this host; list your own hosts (/128) or a prefix longer than /64',
    ]],
  ];
  for (const [name, change, expected] of refusals) {
    it(name, () => assert.deepEqual(problems({ ...base(), ...change }), expected));
  }

  it("fails on an ssh-rsa host key pin, which the provider could only check with SHA-1", () => {
    const rsa = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7";
    assert.deepEqual(problems({ ...base(), "mailfleet:sshHostKey": rsa }), [
      `mailfleet:sshHostKey: "${rsa}" is an RSA host key, which @pulumi/command can only verify with SHA-1 signatures that Debian 12's sshd refuses; pin the host's Ed25519 or ECDSA key instead (ssh-keyscan -t ed25519 HOST)`,
    ]);
  });

  const yamlCases: Array<[string, string, string]> = [
    ["fails on a YAML anchor and alias in the password map", "john@example.com: &pw long-password-1\nmary@example.org: *pw\n", "carries a YAML anchor (&name), which is not part of the password; quote the password"],
    ["fails on a YAML tag in the password map", "john@example.com: !!str long-password-1\nmary@example.org: another-long-pw\n", "carries a YAML tag (!...), which changes how the password is read; quote the password without a tag"],
    ["fails on a folded block password", "john@example.com: >\n  long-password\n  second-line\nmary@example.org: another-long-pw\n", "is a YAML block scalar (| or >), which adds or folds line breaks; write the password on one line in quotes"],
    ["fails on a password continued on the next line", "john@example.com: long-password\n  continued\nmary@example.org: another-long-pw\n", "continues on the next line, where YAML folds the line break into a space; write the password on one line in quotes"],
  ];
  for (const [name, secret, message] of yamlCases) {
    it(name, () => {
      const p = problems({ ...base(), "mailfleet:mailboxPasswords": secret });
      assert.equal(p[0], `mailfleet:mailboxPasswords[john@example.com]: ${message}`);
      assert.ok(!p.join("\n").includes("long-password"), "a message quotes the password");
    });
  }

  it("accepts a mailbox at a role address and the host's own IPv6 as a /128", () => {
    const c = readConfig("s", {
      ...base(),
      "mailfleet:mailboxes": JSON.stringify(["john@example.com", "mary@example.org", "postmaster@example.com"]),
      "mailfleet:mailboxPasswords": `john@example.com: ${SECRET_PW}\nmary@example.org: another-long-pw\npostmaster@example.com: postmaster-pw-1\n`,
      "mailfleet:hostAddress": "2001:db8:5::10",
      "mailfleet:trustedNetworks": JSON.stringify(["2001:db8:5::10/128", "2001:db8:5:1::/80"]),
    }, SECRETS);
    assert.deepEqual(c.directory.mailboxes.map((m) => m.address), ["john@example.com", "mary@example.org", "postmaster@example.com"]);
    assert.deepEqual(c.policy.trustedNetworks, ["[2001:db8:5::10]/128", "[2001:db8:5:1::]/80"]);
  });

  it("fails on a postmaster at the host's own name (a forwarding loop)", () => {
    assert.deepEqual(problems({ ...base(), "mailfleet:postmaster": "root@mail.example.net" }), [
      'mailfleet:postmaster: "root@mail.example.net" is an address of the mail host itself, where root\'s and postmaster\'s mail is forwarded to mailfleet:postmaster: a loop; use a mailbox in a hosted domain or an external address',
    ]);
  });

  it("fails on a malformed DNSBL result filter", () => {
    assert.deepEqual(problems({ ...base(), "mailfleet:postscreenDnsblSites": JSON.stringify(["zen.spamhaus.org=127.", "b.example=127.0.0.[2..300]"]) }), [
      'mailfleet:postscreenDnsblSites[0]: "zen.spamhaus.org=127." has a malformed result filter; write four octets such as =127.0.0.[2..11]',
      'mailfleet:postscreenDnsblSites[1]: "b.example=127.0.0.[2..300]" has a malformed result filter; write four octets such as =127.0.0.[2..11]',
    ]);
  });

  it("fails on secrets stored in plain text, without showing them", () => {
    const p = problems(base(), new Set());
    assert.deepEqual(p, [
      "mailfleet:sshPrivateKey: is stored in plain text; store it as a secret: pulumi config set --secret mailfleet:sshPrivateKey < ~/.ssh/id_ed25519",
      "mailfleet:mailboxPasswords: is stored in plain text; store it as a secret: pulumi config set --secret mailfleet:mailboxPasswords < passwords.yaml",
    ]);
  });

  it("reports every problem at once in one error naming the stack", () => {
    const raw = { ...base(), "mailfleet:hostname": "mail", "mailfleet:domains": JSON.stringify(["example.com", "example.org", "Bad.Example"]) };
    assert.throws(() => readConfig("acme-prod", raw, SECRETS), (err: Error) => {
      assert.match(err.message, /^invalid stack config for "acme-prod":\n - mailfleet:hostname: "mail" is not a fully qualified/);
      assert.match(err.message, /\n - mailfleet:domains\[2\]: "Bad.Example" has upper-case letters/);
      return true;
    });
  });

  it("never echoes a password or key in any message", () => {
    const raw = { ...base(), "mailfleet:mailboxPasswords": `john@example.com: ${SECRET_PW}\nstranger@example.com: ${SECRET_PW}x\n`, "mailfleet:sshPrivateKey": "not a key at all, secret-ish" };
    const text = problems(raw).join("\n");
    assert.ok(text.length > 0);
    assert.ok(!text.includes(SECRET_PW));
    assert.ok(!text.includes("secret-ish"));
  });
});
