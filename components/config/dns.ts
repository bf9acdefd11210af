// Section: what the mail records say (host addresses, DMARC, the smarthost's SPF) and who
// publishes them (docs/dns.md).
import { CONFIG_KEYS } from "./keys";
import { ConfigReader, k, show } from "./reader";
import { RelayHost } from "./relay";
import { canonicalAddress, checkDomain, checkExternalAddress, checkHostAddress, isIPv4, isIPv6 } from "./syntax";

export type DmarcPolicy = "none" | "quarantine" | "reject";
export type TsigAlgorithm = "hmac-sha256" | "hmac-sha384" | "hmac-sha512";

/** S: the secret's type, plaintext while validating, a secret Input in the components. */
export interface Rfc2136Server<S = string> {
  kind: "rfc2136";
  /** IP literal (without brackets) or host name, as the mail host reaches it. */
  server: string;
  port: number;
  keyName: string;
  algorithm: TsigAlgorithm;
  /** Plaintext in memory only; wrapped with pulumi.secret() before it reaches any resource. */
  secret: S;
}

export interface CloudflareAccount<S = string> {
  kind: "cloudflare";
  /** Plaintext in memory only; wrapped with pulumi.secret() before it reaches any resource. */
  apiToken: S;
  /** Zone name to zone ID. */
  zones: Array<{ name: string; id: string }>;
}

export type DnsProvider<S = string> = { kind: "none" } | Rfc2136Server<S> | CloudflareAccount<S>;

/** The zone a record name belongs to: the longest zone that is the name or a parent of it. */
export function zoneOf<Z extends { name: string }>(zones: Z[], name: string): Z | undefined {
  return zones.filter((z) => name === z.name || name.endsWith(`.${z.name}`)).sort((a, b) => b.name.length - a.name.length)[0];
}

export interface DnsSettings<S = string> {
  publicIpv4?: string;
  publicIpv6?: string;
  /** The PTR names the operator states for those addresses (checked against the host name). */
  ptr: { ipv4?: string; ipv6?: string };
  dmarc: { policy: DmarcPolicy; reportAddress?: string };
  /** The smarthost provider's SPF domain (include:). */
  relaySpfInclude?: string;
  ttl: number;
  provider: DnsProvider<S>;
}

const DNS_PORT = 53;
const RFC2136_KEYS = ["dnsServer", "dnsTsigKeyName", "dnsTsigSecret"];
const CLOUDFLARE_KEYS = ["cloudflareApiToken", "cloudflareZoneIds"];

export function readDns(r: ConfigReader, relay: RelayHost | undefined, ipv4Only: boolean, names: string[]): DnsSettings {
  const publicIpv4 = address(r, "publicIpv4", 4);
  const publicIpv6 = address(r, "publicIpv6", 6);
  const reportAddress = (r.text("dmarcReportAddress") ?? "").trim();
  if (reportAddress) {
    const why = checkExternalAddress(reportAddress);
    if (why) r.bad(k("dmarcReportAddress"), `${show(reportAddress)} ${why}`);
    // In a DMARC URI "!" and "," are separators and "?" starts mail headers (RFC 7489 6.2, RFC 6068).
    else if (!/^[A-Za-z0-9._+-]+@/.test(reportAddress)) r.bad(k("dmarcReportAddress"), `${show(reportAddress)} has a local part with characters a DMARC record cannot carry as they are; use letters, digits, ".", "_", "+" and "-"`);
  }
  const kind = r.choice<DnsProvider["kind"]>("dnsProvider");
  const provider: DnsProvider = kind === "rfc2136" ? readRfc2136(r) : kind === "cloudflare" ? readCloudflare(r, names) : { kind: "none" };
  for (const [keys, owner] of [[RFC2136_KEYS, "rfc2136"], [CLOUDFLARE_KEYS, "cloudflare"]] as const) {
    if (kind === owner) continue;
    for (const key of keys.filter((x) => (CONFIG_KEYS[x].type === "array" ? r.list(x).length > 0 : (r.text(x) ?? "") !== ""))) {
      r.bad(k(key), `is set but mailfleet:dnsProvider is "${kind}", so nothing would use it; set mailfleet:dnsProvider to ${owner} or remove ${k(key)}`);
    }
  }
  const relaySpfInclude = (r.text("relaySpfInclude") ?? "").trim();
  if (relaySpfInclude) {
    // SPF domains often start with an underscore label (_spf.provider.example).
    const why = checkDomain(relaySpfInclude.replace(/(^|\.)_/g, "$1u"));
    if (why) r.bad(k("relaySpfInclude"), `${show(relaySpfInclude)} ${why}`);
    else if (!relay) r.bad(k("relaySpfInclude"), "is set but mailfleet:relayHost is empty; the include: names the smarthost provider's senders, so set the smarthost or remove it");
  } else if (relay && kind !== "none") {
    // Published SPF without the provider's servers would fail every message the smarthost sends.
    r.bad(k("relaySpfInclude"), `is empty, but mail leaves through ${relay.host} and mailfleet:dnsProvider publishes the SPF records; set the provider's SPF domain (its documentation names it, e.g. spf.provider.example)`);
  }
  if (ipv4Only && publicIpv6) {
    r.bad(k("publicIpv6"), `${show(publicIpv6)} is set but mailfleet:ipv4Only is true: an AAAA record would send mail and clients to an address the host does not serve; remove publicIpv6 or turn ipv4Only off`);
  }
  if (kind !== "none" && !relay) {
    // SPF says "mx" and "a": without the address records mail leaving the host would fail it.
    if ((r.text("publicIpv4") ?? "") === "") {
      r.bad(k("publicIpv4"), "is empty, but mailfleet:dnsProvider publishes the host's records and SPF allows only the addresses published for it; set the host's public IPv4 address");
    }
    if (!ipv4Only && (r.text("publicIpv6") ?? "") === "") {
      r.bad(k("publicIpv6"), "is empty, but the host also sends over IPv6 (mailfleet:ipv4Only is false) and SPF allows only the addresses published for it, so that mail would fail SPF; set the host's public IPv6 address, or set mailfleet:ipv4Only to true");
    }
  }
  const ptr: DnsSettings["ptr"] = {};
  for (const [key, family, address] of [["publicIpv4Ptr", "ipv4", publicIpv4], ["publicIpv6Ptr", "ipv6", publicIpv6]] as const) {
    const name = (r.text(key) ?? "").trim().toLowerCase().replace(/\.$/, "");
    if (name === "") continue;
    const why = checkDomain(name);
    if (why) r.bad(k(key), `${show(name)} ${why}`);
    else if (!address) r.bad(k(key), `is set, but mailfleet:${family === "ipv4" ? "publicIpv4" : "publicIpv6"} is empty; state the address too, or remove ${k(key)}`);
    else ptr[family] = name;
  }
  return {
    ptr,
    ...(publicIpv4 ? { publicIpv4 } : {}),
    ...(publicIpv6 ? { publicIpv6 } : {}),
    dmarc: { policy: r.choice<DmarcPolicy>("dmarcPolicy"), ...(reportAddress ? { reportAddress } : {}) },
    ...(relaySpfInclude ? { relaySpfInclude } : {}),
    ttl: r.integer("dnsTtl"),
    provider,
  };
}

function address(r: ConfigReader, key: string, family: 4 | 6): string | undefined {
  const value = (r.text(key) ?? "").trim();
  if (value === "") return undefined;
  if (family === 4 && !isIPv4(value)) r.bad(k(key), `${show(value)} is not an IPv4 address`);
  else if (family === 6 && !isIPv6(value)) r.bad(k(key), `${show(value)} is not an IPv6 address`);
  else if (family === 6 && /^::ffff:/i.test(value)) r.bad(k(key), `${show(value)} is an IPv4-mapped address; set the IPv4 address in mailfleet:publicIpv4 instead`);
  else if (family === 6 && /^fe[89ab]/i.test(value)) r.bad(k(key), `${show(value)} is link-local, which no other host can reach; set the host's global IPv6 address`);
  // One spelling per address, so that the record (and the step's input) changes only when the address does.
  else return canonicalAddress(value);
  return undefined;
}

function readRfc2136(r: ConfigReader): Rfc2136Server | { kind: "none" } {
  const text = (r.text("dnsServer") ?? "").trim();
  const keyName = (r.text("dnsTsigKeyName") ?? "").trim();
  const secret = r.text("dnsTsigSecret") ?? "";
  const before = r.problems.length;
  let server = "";
  let port = DNS_PORT;
  if (text === "") {
    r.bad(k("dnsServer"), 'is empty, but mailfleet:dnsProvider is rfc2136; set the primary server of the zones, e.g. "192.0.2.53" or "ns1.example.net"');
  } else {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]]+))(?::([0-9]{1,5}))?$/.exec(text) ?? /^([0-9a-fA-F:]+:[0-9a-fA-F:.]*)()()$/.exec(text);
    server = m ? (m[1] || m[2]) : "";
    port = m && m[3] ? Number(m[3]) : DNS_PORT;
    const why = !m ? 'is not of the form host, host:port or [IPv6]:port' : checkHostAddress(server);
    if (why) r.bad(k("dnsServer"), `${show(text)} ${why}`);
    else if (port < 1 || port > 65535) r.bad(k("dnsServer"), `${show(text)} has an invalid port`);
  }
  if (keyName === "") r.bad(k("dnsTsigKeyName"), "is empty, but mailfleet:dnsProvider is rfc2136; set the name of the TSIG key the server accepts updates with");
  else if (!/^[a-z0-9]([a-z0-9_-]{0,62})(\.[a-z0-9]([a-z0-9_-]{0,62}))*\.?$/i.test(keyName)) {
    r.bad(k("dnsTsigKeyName"), `${show(keyName)} is not a key name (letters, digits, "-", "_" and dots, as in named.conf's key statement)`);
  }
  if (secret === "") {
    r.bad(k("dnsTsigSecret"), "is empty, but mailfleet:dnsProvider is rfc2136; set it with pulumi config set --secret mailfleet:dnsTsigSecret (the secret tsig-keygen printed)");
  } else if (!r.isSecret("dnsTsigSecret")) {
    r.bad(k("dnsTsigSecret"), "is stored in plain text; store it as a secret: pulumi config set --secret mailfleet:dnsTsigSecret");
  } else if (!/^[A-Za-z0-9+/]+={0,2}$/.test(secret.trim()) || secret.trim().length % 4 !== 0 || secret.trim().length < 16) {
    // Never shown: it is a secret, even when malformed.
    r.bad(k("dnsTsigSecret"), "is not a base64 TSIG secret (tsig-keygen prints one, e.g. in its secret \"...\"; line)");
  }
  const algorithm = r.choice<TsigAlgorithm>("dnsTsigAlgorithm");
  if (r.problems.length > before) return { kind: "none" };
  return { kind: "rfc2136", server, port, keyName: keyName.replace(/\.$/, ""), algorithm, secret: secret.trim() };
}

function readCloudflare(r: ConfigReader, names: string[]): CloudflareAccount | { kind: "none" } {
  const before = r.problems.length;
  const token = r.text("cloudflareApiToken") ?? "";
  if (token === "") r.bad(k("cloudflareApiToken"), "is empty, but mailfleet:dnsProvider is cloudflare; set it with pulumi config set --secret mailfleet:cloudflareApiToken (a token with DNS edit rights on the zones)");
  else if (!r.isSecret("cloudflareApiToken")) r.bad(k("cloudflareApiToken"), "is stored in plain text; store it as a secret: pulumi config set --secret mailfleet:cloudflareApiToken");
  else if (!/^[A-Za-z0-9_-]{20,}$/.test(token.trim())) r.bad(k("cloudflareApiToken"), "is not a Cloudflare API token (letters, digits, \"-\" and \"_\", 40 characters as Cloudflare shows it)");
  const zones: CloudflareAccount["zones"] = [];
  r.forEach("cloudflareZoneIds", (entry, where) => {
    const m = /^([^=\s]+)=([0-9a-f]{32})$/.exec(entry.trim());
    if (!m) return r.bad(where, `${show(entry)} is not of the form zone.example=ZONE_ID (a 32-digit hex zone ID)`);
    const why = checkDomain(m[1]);
    if (why) return r.bad(where, `${show(entry)}: the zone ${why}`);
    if (zones.some((z) => z.name === m[1])) return r.bad(where, `${show(entry)}: the zone ${m[1]} is listed twice`);
    zones.push({ name: m[1], id: m[2] });
  });
  if (zones.length === 0 && !r.broken.has("cloudflareZoneIds")) r.bad(k("cloudflareZoneIds"), "is empty, but mailfleet:dnsProvider is cloudflare; list each zone as zone.example=ZONE_ID");
  else {
    for (const name of names.filter((n) => !zoneOf(zones, n))) {
      r.bad(k("cloudflareZoneIds"), `has no zone for ${show(name)}, whose records mailfleet publishes; add that zone (its name and ID)`);
    }
  }
  if (r.problems.length > before) return { kind: "none" };
  return { kind: "cloudflare", apiToken: token.trim(), zones };
}

/**
 * Warnings for stated PTR names that are not the host name: receivers check that the sending
 * address's PTR names a host whose A/AAAA leads back to it (forward-confirmed reverse DNS), and
 * the large ones refuse or junk mail that fails, over IPv6 in particular.
 */
export function ptrWarnings(hostname: string, dns: Pick<DnsSettings, "ptr" | "publicIpv4" | "publicIpv6">): string[] {
  const out: string[] = [];
  for (const [family, name, address, key] of [["IPv4", dns.ptr.ipv4, dns.publicIpv4, "publicIpv4Ptr"], ["IPv6", dns.ptr.ipv6, dns.publicIpv6, "publicIpv6Ptr"]] as const) {
    if (name && name !== hostname) {
      out.push(`mailfleet:${key}: the PTR of ${address} names ${name}, not the host name ${hostname}: receivers that check forward-confirmed reverse DNS will refuse or junk mail sent over ${family}; ask the address's provider to set it to ${hostname}${family === "IPv6" ? ", or pin the affected domains to IPv4 (mailfleet:forceIpv4Domains)" : ""}`);
    }
  }
  return out;
}
