// Pure: the DNS records a mail host needs, derived from the stack as data (docs/dns.md#records).
// PTR records stay the operator's: they live in the reverse zone of whoever owns the addresses.

export type DnsRecordType = "A" | "AAAA" | "MX" | "TXT" | "TLSA";

export interface DnsRecord {
  /** Owner name, fully qualified, without the trailing dot. */
  name: string;
  type: DnsRecordType;
  /** RDATA as a zone file writes it, except TXT (unquoted) and MX (without the preference). */
  value: string;
  /** MX preference. */
  priority?: number;
}

export interface MailDnsInput {
  hostname: string;
  domains: string[];
  ipv4?: string;
  ipv6?: string;
  /** With a smarthost, mail leaves from the provider's servers: their SPF is included instead of mx. */
  relayHost?: { host: string };
  /** The provider's SPF domain; without it the SPF record carries a placeholder (output only). */
  relaySpfInclude?: string;
  dmarc: { policy: "none" | "quarantine" | "reject"; reportAddress?: string };
  /** SHA-256 of the certificate's public key, hex: published as TLSA 3 1 1 for port 25. */
  tlsaSpkiSha256?: string;
  /** DKIM public keys to publish for every hosted domain (the signing one and, in a rotation, the previous). */
  dkimKeys?: Array<{ selector: string; publicKeyBase64: string }>;
}

/** MX preference of the one mail host. */
const MX_PRIORITY = 10;

export function mailRecords(input: MailDnsInput): DnsRecord[] {
  const { hostname } = input;
  const host: DnsRecord[] = [];
  if (input.ipv4) host.push({ name: hostname, type: "A", value: input.ipv4 });
  if (input.ipv6) host.push({ name: hostname, type: "AAAA", value: input.ipv6 });
  // The HELO identity gets its own SPF (RFC 7208 section 2.3): receivers check it for bounces,
  // whose envelope sender is empty. The host name is also the domain of SRS senders
  // (docs/postfix.md#srs): with a smarthost that mail leaves from the provider's servers.
  const relayInclude = input.relayHost ? ` include:${input.relaySpfInclude ?? `<the SPF domain of ${input.relayHost.host}>`}` : "";
  host.push({ name: hostname, type: "TXT", value: `v=spf1 a${relayInclude} -all` });
  if (input.tlsaSpkiSha256) {
    // DANE-EE, SPKI, SHA-256 (RFC 7672 section 3.1): true across renewals that keep the key.
    host.push({ name: `_25._tcp.${hostname}`, type: "TLSA", value: `3 1 1 ${input.tlsaSpkiSha256.toLowerCase()}` });
  }
  const spf = input.relayHost ? `v=spf1${relayInclude} -all` : "v=spf1 mx -all";
  const dmarc = [`v=DMARC1`, `p=${input.dmarc.policy}`, ...(input.dmarc.reportAddress ? [`rua=mailto:${input.dmarc.reportAddress}`] : [])].join("; ");
  return [
    ...host,
    ...input.domains.flatMap((d): DnsRecord[] => [
      { name: d, type: "MX", priority: MX_PRIORITY, value: hostname },
      { name: d, type: "TXT", value: spf },
      { name: `_dmarc.${d}`, type: "TXT", value: dmarc },
      // RFC 6376 3.6.1; one key for all the domains the host signs for.
      ...(input.dkimKeys ?? []).map((key): DnsRecord => ({ name: `${key.selector}._domainkey.${d}`, type: "TXT", value: `v=DKIM1; k=rsa; p=${key.publicKeyBase64}` })),
    ]),
  ];
}

/** A TXT value in zone-file form: quoted, split into strings of at most 255 octets (RFC 1035 3.3.14). */
export function txtRdata(value: string): string {
  const bytes = Buffer.from(value, "utf8");
  const parts: string[] = [];
  for (let at = 0; at < bytes.length || parts.length === 0; at += 255) {
    const chunk = bytes.subarray(at, at + 255).toString("latin1");
    parts.push(`"${chunk.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[^\x20-\x7e]/g, (c) => `\\${String(c.charCodeAt(0)).padStart(3, "0")}`)}"`);
  }
  return parts.join(" ");
}

/** The RDATA of a record in zone-file form (names absolute, with the trailing dot). */
export function rdata(r: DnsRecord): string {
  switch (r.type) {
    case "MX":
      return `${r.priority ?? MX_PRIORITY} ${r.value}.`;
    case "TXT":
      return txtRdata(r.value);
    case "A":
    case "AAAA":
    case "TLSA":
      return r.value;
    default: {
      const never: never = r.type;
      throw new Error(`unknown record type ${String(never)}`);
    }
  }
}

/** One record as a zone file line; `ttl` omitted: the zone's default applies. */
export function zoneLine(r: DnsRecord, ttl?: number): string {
  return `${r.name}.${ttl ? ` ${ttl}` : ""} ${r.type} ${rdata(r)}`;
}
