// Pure: the DNS records a mail host needs, derived from the stack as data (docs/dns.md#records).
// A/AAAA and PTR of the host stay the operator's until a DNS provider adapter publishes them.

export type DnsRecordType = "A" | "AAAA" | "MX" | "TXT";

export interface DnsRecord {
  /** Owner name, fully qualified, without the trailing dot. */
  name: string;
  type: DnsRecordType;
  /** RDATA as a zone file writes it (TXT without quotes; MX without the preference). */
  value: string;
  /** MX preference. */
  priority?: number;
}

export interface MailDnsInput {
  hostname: string;
  domains: string[];
  /** With a smarthost, mail leaves from the provider's servers: their SPF is included instead of mx. */
  relayHost?: { host: string };
}

/** MX preference of the one mail host. */
const MX_PRIORITY = 10;

export function mailRecords(input: MailDnsInput): DnsRecord[] {
  return input.domains.flatMap((d): DnsRecord[] => [
    { name: d, type: "MX", priority: MX_PRIORITY, value: input.hostname },
    {
      name: d,
      type: "TXT",
      value: input.relayHost ? `v=spf1 include:<the SPF domain of ${input.relayHost.host}> -all` : "v=spf1 mx -all",
    },
  ]);
}

/** One record as a zone file line. */
export function zoneLine(r: DnsRecord): string {
  switch (r.type) {
    case "MX":
      return `${r.name}. MX ${r.priority ?? MX_PRIORITY} ${r.value}.`;
    case "TXT":
      return `${r.name}. TXT "${r.value}"`;
    case "A":
    case "AAAA":
      return `${r.name}. ${r.type} ${r.value}`;
    default: {
      const never: never = r.type;
      throw new Error(`unknown record type ${String(never)}`);
    }
  }
}
