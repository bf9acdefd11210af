// The one table of stack config keys: each key's type, default, description, whether it is a
// secret, and for integers the allowed range. Pulumi.yaml's `config:` schema is generated from it
// (a unit test keeps them equal), the readers take defaults and ranges from it, and nothing else
// restates a default.

export const NAMESPACE = "mailfleet";

export type KeyType = "string" | "integer" | "boolean" | "array";

export interface KeySpec {
  type: KeyType;
  description: string;
  secret?: boolean;
  /**
   * An optional secret: Pulumi's CLI makes every declared key without a default required and
   * refuses a `secret: true` key whose value came from a default, so optional secrets are declared
   * with an empty default and the program refuses a value that is not stored encrypted.
   */
  secretWhenSet?: boolean;
  /** Absent: the key is required. */
  default?: string | number | boolean | string[];
  /** Integers: the smallest and largest value accepted. */
  min?: number;
  max?: number;
  /** Integers: the only values accepted (within min..max). */
  allowed?: number[];
  /** Strings: the only values accepted (read with ConfigReader.choice). */
  choices?: string[];
}

/**
 * Every config key the program reads. Pulumi's project schema allows only string, integer,
 * boolean and arrays of those, so structured values are written as strings (aliases, blocklist
 * entries) or one YAML secret (passwords).
 */
export const CONFIG_KEYS: Record<string, KeySpec> = {
  hostAddress: { type: "string", description: "IP address or DNS name of the Debian 12 host to provision over SSH." },
  sshPort: { type: "integer", min: 1, max: 65535, default: 22, description: "SSH port of the host." },
  sshUser: {
    type: "string",
    default: "root",
    description: "SSH login user; root, or a user with passwordless sudo (commands then run under `sudo -n`).",
  },
  sshPrivateKey: {
    type: "string",
    secret: true,
    description: "SSH private key (OpenSSH or PEM) for the login: pulumi config set --secret mailfleet:sshPrivateKey < key.",
  },
  sshHostKey: {
    type: "string",
    description: 'The host\'s SSH public host key, pinned: "ssh-ed25519 AAAA..." (ssh-keyscan -t ed25519 HOST, without the host field); Ed25519 or ECDSA, not ssh-rsa.',
  },
  hostname: {
    type: "string",
    description: "Fully qualified name of the mail host (myhostname, HELO, certificate name); needs A/AAAA and matching PTR records.",
  },
  domains: {
    type: "array",
    description: "Hosted mail domains (virtual mailbox domains). Never the host name itself.",
  },
  mailboxes: {
    type: "array",
    default: [],
    description: "Mailbox addresses (local@domain, lower case) stored as Maildir under /var/vmail/<domain>/<local>.",
  },
  mailboxPasswords: {
    type: "string",
    secret: true,
    description: 'YAML map of mailbox address to password, one secret: pulumi config set --secret mailfleet:mailboxPasswords < passwords.yaml. Stored on the host only as SHA512-CRYPT hashes.',
  },
  aliases: {
    type: "array",
    default: [],
    description: 'Aliases, each "alias@domain: target[, target...]"; targets are hosted mailboxes or aliases, or external addresses (forwarding).',
  },
  postmaster: {
    type: "string",
    default: "",
    description: "Where postmaster@, abuse@ (every hosted domain, unless aliased explicitly) and root mail go. Default: the first mailbox.",
  },
  trustedNetworks: {
    type: "array",
    default: [],
    description: "Extra networks (CIDR) allowed to relay without AUTH, added to loopback in mynetworks. Customers should authenticate instead.",
  },
  allowAuthOnPort25: {
    type: "boolean",
    default: false,
    description: "Also offer SMTP AUTH on port 25 (only after STARTTLS). Off: AUTH on 587/465 only (RFC 8314).",
  },
  headerPrivacy: {
    type: "boolean",
    default: true,
    description: "Remove the customer's client hop (Received ... with ESMTPSA) and headerPrivacyStrip headers from submitted mail (587, 465, sendmail); inbound mail keeps its trace.",
  },
  headerPrivacyStrip: {
    type: "array",
    default: ["X-Originating-IP", "X-Mailer", "User-Agent", "X-PHP-Originating-Script"],
    description: "Header names removed from submitted mail when headerPrivacy is on.",
  },
  relayHost: {
    type: "string",
    default: "",
    description: 'Smarthost for all outbound mail: "smtp.provider.example", "smtp.provider.example:587" or "[192.0.2.1]:587" (no MX lookup; TLS required toward it). Empty: deliver directly.',
  },
  relayHostUsername: { type: "string", default: "", description: "SASL login at the smarthost; empty: no AUTH toward it." },
  relayHostPassword: {
    type: "string",
    default: "",
    secretWhenSet: true,
    description: "SASL password at the smarthost; must be set with --secret (it is optional, so Pulumi.yaml cannot mark it secret: the CLI would then require it for every stack).",
  },
  blockedSenders: {
    type: "array",
    default: [],
    description: 'Envelope senders refused at RCPT on port 25, each "address-or-domain: reply text" (a domain covers its subdomains), e.g. a hacked mailing list.',
  },
  blockedClients: {
    type: "array",
    default: [],
    description: 'Client networks refused at RCPT on port 25, each "CIDR: reply text".',
  },
  blockReadReceipts: {
    type: "boolean",
    default: false,
    description: "Discard read receipts (MDNs) sent by users and strip Disposition-Notification-To/Return-Receipt-To from submitted mail; bounces (DSNs) always pass.",
  },
  rejectUnknownSenderDomain: {
    type: "boolean",
    default: true,
    description: "Refuse (4xx until DNS answers) mail on port 25 whose sender domain has no DNS record. Needs a working resolver on the host.",
  },
  srsForwarding: {
    type: "boolean",
    default: true,
    description: "Give mail forwarded to an outside address (an alias target) an envelope sender of this host (SRS, Debian's postsrsd), so it passes SPF at the destination; bounces to that address find their way back. Mail from the hosted domains and local deliveries keep their sender.",
  },
  authRateLimitPerMinute: {
    type: "integer",
    min: 0, max: 100000, default: 30,
    description: "AUTH commands a client address may send per minute (smtpd_client_auth_rate_limit); 0: no limit.",
  },
  bounceQueueLifetimeDays: {
    type: "integer",
    min: 0, max: 30, default: 1,
    description: "Days an undeliverable bounce stays queued (bounce_queue_lifetime; Postfix's default is 5).",
  },
  queueCleanupTimer: {
    type: "boolean",
    default: false,
    description: "Run mailfleet-queue-cleanup daily (removes deferred MAILER-DAEMON bounces, nothing else). The command is always installed for on-demand use.",
  },
  postscreenDnsblSites: {
    type: "array",
    default: [],
    description: 'DNSBLs for postscreen on port 25, each with a result filter, e.g. "zen.spamhaus.org=127.0.0.[2..11]*3". Empty: postscreen on port 25 runs no test, only its connection limits (docs/postfix.md#postscreen).',
  },
  postscreenDnsblThreshold: { type: "integer", min: 1, max: 100, default: 3, description: "postscreen_dnsbl_threshold: summed weight at which a client is refused." },
  tlsCertificateSource: {
    type: "string",
    choices: ["self-signed", "acme"],
    default: "self-signed",
    description: 'Where the host\'s certificate comes from: "self-signed" (made by mailfleet, for MX-to-MX traffic) or "acme" (issued and renewed on the host by lego; see acmeChallenge for how the CA validates).',
  },
  tlsKeyBits: { type: "integer", min: 2048, max: 4096, allowed: [2048, 3072, 4096], default: 2048, description: "RSA key size of the certificate, self-signed or ACME (2048, 3072 or 4096)." },
  tlsValidityDays: { type: "integer", min: 1, max: 825, default: 825, description: "Validity of the self-signed certificate in days (1 to 825)." },
  acmeDirectoryUrl: {
    type: "string",
    default: "https://acme-v02.api.letsencrypt.org/directory",
    description: "ACME directory URL (tlsCertificateSource acme): Let's Encrypt by default; its staging directory or a private CA for tests.",
  },
  acmeChallenge: {
    type: "string",
    choices: ["http-01", "dns-01"],
    default: "http-01",
    description: 'How the ACME CA checks that the host owns its names: "http-01" (lego answers on port 80, which must reach the host while the CA validates) or "dns-01" (lego publishes an _acme-challenge TXT record through the RFC 2136 server of mailfleet:dnsProvider; port 80 may stay closed, and the TSIG key is then kept on the host, root 0600, for the renewals).',
  },
  acmeEmail: { type: "string", default: "", description: "Account e-mail at the ACME CA (expiry notices); required with tlsCertificateSource acme." },
  acmeCaCertificate: {
    type: "string",
    default: "",
    description: "PEM of an extra CA the host trusts for the ACME directory's own HTTPS (a private CA); empty: the system CAs only.",
  },
  acmeRenewBeforeDays: {
    type: "integer",
    min: 1, max: 60, default: 30,
    description: "The host's twice-daily renewal replaces the ACME certificate this many days before it expires (1 to 60; Let's Encrypt certificates last 90 days, and a window as long as the certificate would order a new one twice a day into the CA's rate limits).",
  },
  dhParams: {
    type: "string",
    choices: ["regenerate", "ffdhe", "none"],
    default: "regenerate",
    description: 'Finite-field DH for TLS 1.2 DHE suites: "regenerate" (parameters generated on the host by a timer; an RFC 7919 group until the first run), "ffdhe" (the fixed RFC 7919 group of dhParamBits) or "none" (ECDHE only).',
  },
  dhParamBits: { type: "integer", min: 3072, max: 4096, allowed: [3072, 4096], default: 3072, description: "Size of the DH group in bits (3072 or 4096)." },
  dhRegenerateSchedule: {
    type: "string",
    default: "weekly",
    description: "systemd OnCalendar expression for regenerating DH parameters (dhParams regenerate), e.g. daily or weekly; a randomized delay of up to an hour is added.",
  },
  smtpInboundTlsMinimum: {
    type: "string",
    choices: ["TLSv1", "TLSv1.2"],
    default: "TLSv1",
    description: 'Oldest TLS version port 25 offers to sending servers: "TLSv1" keeps old senders encrypted (TLS stays optional there), "TLSv1.2" turns TLS 1.0/1.1 off. Ports 465, 587 and 993 always require TLS 1.2 or newer.',
  },
  smtpTlsPolicies: {
    type: "array",
    default: [],
    description: 'TLS required toward chosen next hops, "DESTINATION LEVEL [match=...]": DESTINATION is domain, .domain (subdomains), [host] or [host]:port; LEVEL is encrypt, secure (CA-verified; match= names), fingerprint (match= SHA-256 pins) or dane-only (needs dnssecResolver). Mail that cannot meet it is deferred, never sent in clear.',
  },
  dnssecResolver: {
    type: "boolean",
    default: false,
    description: "The host's resolver validates DNSSEC: Postfix then uses it (smtp_dns_support_level = dnssec) and dane-only policies are allowed.",
  },
  ipv4Only: {
    type: "boolean",
    default: false,
    description: "The host has no working IPv6: Postfix and Dovecot use IPv4 only (inet_protocols = ipv4; Dovecot listens on * only). Off: both families.",
  },
  smtpBindAddress: {
    type: "string",
    default: "",
    description: "Source IPv4 address of outbound SMTP (smtp_bind_address), for a host with several; its PTR must name hostname. Empty: the kernel's choice.",
  },
  smtpBindAddress6: {
    type: "string",
    default: "",
    description: "Source IPv6 address of outbound SMTP (smtp_bind_address6), for a host with several; its PTR must name hostname. Empty: the kernel's choice.",
  },
  forceIpv4Domains: {
    type: "array",
    default: [],
    description: 'Destination domains reached over IPv4 only (e.g. a provider that refuses this host\'s IPv6 for want of a PTR): "example.com" for the domain itself, ".example.com" for its subdomains (list both for both).',
  },
  forceIpv6Domains: {
    type: "array",
    default: [],
    description: 'Destination domains reached over IPv6 only: "example.com" for the domain itself, ".example.com" for its subdomains.',
  },
  publicIpv4: {
    type: "string",
    default: "",
    description: "The host's public IPv4 address: the A record of hostname (and what its PTR must name). Empty: no A record is published.",
  },
  publicIpv6: {
    type: "string",
    default: "",
    description: "The host's public IPv6 address: the AAAA record of hostname (and what its PTR must name). Empty: no AAAA record is published.",
  },
  publicIpv4Ptr: {
    type: "string",
    default: "",
    description: "What the reverse DNS (PTR) of publicIpv4 says, as the address's provider set it; a name other than hostname is warned about at preview. Empty: not stated.",
  },
  publicIpv6Ptr: {
    type: "string",
    default: "",
    description: "What the reverse DNS (PTR) of publicIpv6 says; a name other than hostname is warned about at preview. Empty: not stated.",
  },
  dmarcPolicy: {
    type: "string",
    choices: ["none", "quarantine", "reject"],
    default: "none",
    description: 'DMARC policy published for every hosted domain (_dmarc TXT p=): "none" (report only; start here), "quarantine" or "reject".',
  },
  dmarcReportAddress: {
    type: "string",
    default: "",
    description: "Where receivers send DMARC aggregate reports (rua=mailto:); empty: no reports. An address outside the hosted domains needs that domain's consent record (RFC 7489 section 7.1).",
  },
  relaySpfInclude: {
    type: "string",
    default: "",
    description: "With relayHost: the smarthost provider's SPF domain, published as include: in every hosted domain's SPF record (the provider documents it, e.g. spf.provider.example). Required when a DNS provider publishes the records.",
  },
  dkimSigning: {
    type: "boolean",
    default: true,
    description: "Sign all mail submitted on 587/465 with DKIM for the hosted domains (Rspamd as a milter; mail waits with a 4xx while Rspamd is down, never leaves unsigned). See docs/dkim.md.",
  },
  dkimSelector: {
    type: "string",
    default: "mf1",
    description: "DKIM selector that signs (<selector>._domainkey.<domain>); a new selector is a new key. Rotate by setting a new one and the old one as dkimPreviousSelector until its record may go.",
  },
  dkimPreviousSelector: {
    type: "string",
    default: "",
    description: "During a key rotation: the selector that signed before, whose public key stays published (no signing) so mail in transit still verifies. Empty: none.",
  },
  dkimKeyBits: { type: "integer", min: 2048, max: 4096, allowed: [2048, 3072, 4096], default: 2048, description: "RSA size of a new DKIM key (2048, 3072 or 4096)." },
  dnsProvider: {
    type: "string",
    choices: ["none", "rfc2136", "cloudflare"],
    default: "none",
    description: 'Who publishes the mail records (docs/dns.md): "none" (the dnsRecords and dnsZone outputs only), "rfc2136" (dynamic updates signed with a TSIG key, sent from the host to dnsServer) or "cloudflare" (DNS records through the Cloudflare API; cloudflareApiToken, cloudflareZoneIds).',
  },
  cloudflareApiToken: {
    type: "string",
    default: "",
    secretWhenSet: true,
    description: "Cloudflare API token with DNS edit rights on the zones (dnsProvider cloudflare); must be set with --secret.",
  },
  cloudflareZoneIds: {
    type: "array",
    default: [],
    description: 'The Cloudflare zones the records go to (dnsProvider cloudflare), each "zone.example=ZONE_ID" (the ID is on the zone\'s overview page); every hosted domain and the host name must fall in one.',
  },
  dnsServer: {
    type: "string",
    default: "",
    description: 'Primary DNS server of the zones (dnsProvider rfc2136), as the mail host reaches it: "192.0.2.53", "ns1.example.net", "192.0.2.53:5353" or "[2001:db8::53]:53".',
  },
  dnsTsigKeyName: { type: "string", default: "", description: "Name of the TSIG key the server accepts updates with (dnsProvider rfc2136), e.g. mailfleet-example." },
  dnsTsigAlgorithm: {
    type: "string",
    choices: ["hmac-sha256", "hmac-sha384", "hmac-sha512"],
    default: "hmac-sha256",
    description: "Algorithm of the TSIG key (dnsProvider rfc2136).",
  },
  dnsTsigSecret: {
    type: "string",
    default: "",
    secretWhenSet: true,
    description: "The TSIG key's secret, base64 as tsig-keygen prints it (dnsProvider rfc2136); must be set with --secret. It reaches the host on stdin for each update and is not stored there.",
  },
  dnsTtl: { type: "integer", min: 60, max: 86400, default: 3600, description: "TTL in seconds of the published records (60 to 86400)." },
  imapMaxSessions: {
    type: "integer",
    min: 0, max: 100000, default: 0,
    description: "Concurrent IMAP sessions Dovecot allows; a login beyond them is answered \"* BYE [UNAVAILABLE]\". 0: derived from the host's memory ((MiB - 512) / 4, between 100 and 20000; see docs/dovecot.md#capacity).",
  },
  smtpdMaxProcesses: {
    type: "integer",
    min: 0, max: 10000, default: 0,
    description: "smtpd processes per SMTP service (master.cf maxproc of port 25's smtpd, 587 and 465). 0: derived from the host's memory ((MiB - 512) / 16, between 100 and 1000); a sending address may hold a tenth of them on port 25 (10 to 50). See docs/postfix.md#capacity.",
  },
  purgeRemovedMailboxes: {
    type: "boolean",
    default: false,
    description: "Delete the Maildir of a mailbox removed from mailfleet:mailboxes. Off: it is archived under /var/vmail/.removed/<domain>/<local>.<time>, never served to a new owner of the address.",
  },
  passwordHashRounds: {
    type: "integer",
    min: 5000, max: 5000000, default: 100000,
    description: "SHA512-CRYPT rounds for new password hashes (5000 to 5000000); existing hashes are kept while they verify.",
  },
};
