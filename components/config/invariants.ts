// Rules that tie one config section to another, in one place. Each returns the reason a value is
// refused (worded to follow `"value" ...`), or undefined. The sections call them where the
// offending key is read, so every problem is reported at the key the operator has to change.
import { ROLE_ADDRESSES } from "../postfix/role-addresses";
import { MailIdentity } from "./identity";
import { parsePolicy } from "./peer-tls";
import { ConfigReader, k, show } from "./reader";
import type { RelayHost } from "./relay";
import type { TlsSettings } from "./tls";
import type { DkimSettings } from "./dkim";
import type { DnsSettings } from "./dns";
import type { NetworkPolicy } from "./network";
import { canonicalAddress, hostNetwork, isPublicAddress, Network, overlaps, parseAddress, parseNetwork } from "./syntax";

/**
 * A hosted domain must not be one of the host's own names, which Postfix delivers locally
 * (mydestination = $myhostname, localhost.$mydomain, localhost): a domain in both mydestination
 * and virtual_mailbox_domains is a configuration error (VIRTUAL_README).
 */
export function hostedDomainProblem(domain: string, hostname: string): string | undefined {
  if (domain === hostname) {
    return "is the host name; a hosted domain must differ from mailfleet:hostname (Postfix must not list a domain in both mydestination and virtual_mailbox_domains)";
  }
  const mydomain = hostname.slice(hostname.indexOf(".") + 1);
  if (domain === `localhost.${mydomain}`) {
    return `is one of the host's own names (localhost.$mydomain, delivered locally by Postfix's mydestination); host mail under another domain`;
  }
  return undefined;
}

/** postmaster@ and abuse@ exist in every hosted domain even when no alias lists them. */
export function isRoleAddress(address: string): boolean {
  return ROLE_ADDRESSES.includes(address.slice(0, address.lastIndexOf("@")));
}

/**
 * The postmaster must be read by a person: never an address of the host itself (root's and
 * postmaster's mail is forwarded there, a loop), and in a hosted domain only a mailbox or alias.
 */
export function postmasterProblem(postmaster: string, identity: MailIdentity, known: (address: string) => boolean): string | undefined {
  const parsed = parseAddress(postmaster);
  if (typeof parsed === "string") return parsed;
  const mydomain = identity.hostname.slice(identity.hostname.indexOf(".") + 1);
  if ([identity.hostname, "localhost", `localhost.${mydomain}`].includes(parsed.domain)) {
    return "is an address of the mail host itself, where root's and postmaster's mail is forwarded to mailfleet:postmaster: a loop; use a mailbox in a hosted domain or an external address";
  }
  if (identity.domains.includes(parsed.domain) && !known(postmaster)) return "is in a hosted domain but is neither a mailbox nor an alias";
  return undefined;
}

/**
 * Blocking a hosted domain as a sender would refuse the customers' own mail; so would blocking a
 * parent of one, since a domain entry in an access map also matches its subdomains
 * (parent_domain_matches_subdomains, postconf(5)).
 */
export function blockedSenderProblem(key: string, identity: MailIdentity): string | undefined {
  if (identity.domains.includes(key)) return "is a hosted domain; blocking it would refuse your own customers' mail";
  const child = identity.domains.find((d) => d.endsWith(`.${key}`));
  if (child) return `is a parent of the hosted domain ${JSON.stringify(child)}, and a blocked domain covers its subdomains: your own customers' mail would be refused; block the exact sender addresses instead`;
  return undefined;
}

/** IPv4-mapped IPv6 (RFC 4291 2.5.5.2): ::ffff:0:0/96 stands for every IPv4 address. */
const MAPPED = { bytes: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0], prefix: 96 };

/**
 * Clients in a trusted network relay without AUTH (docs/security-checks.md#mail-net-2), so a
 * trusted network must hold only the operator's own machines: never everything, never an
 * IPv4-mapped range (which would trust IPv4 clients through their mapped form), and never the
 * /64 (or wider) that the host's own IPv6 address sits in: at hosting providers that prefix is
 * shared with other customers.
 */
export function trustedNetworkProblem(net: Network, hostAddress: string): string | undefined {
  if (net.prefix === 0) return "trusts every address on the Internet: that is an open relay; list only your own networks";
  if (net.family === 6 && overlaps(net, MAPPED)) {
    return "overlaps the IPv4-mapped range ::ffff:0:0/96, which stands for IPv4 clients; list the IPv4 network itself";
  }
  const host = hostNetwork(hostAddress);
  if (net.family === 6 && net.prefix <= 64 && host && overlaps(net, host)) {
    return `contains the host's own address ${hostAddress}: a provider's /64 is shared with its other customers, who could all relay through this host; list your own hosts (/128) or a prefix longer than /64`;
  }
  return undefined;
}

/** Rules between the TLS settings, the smarthost and the per-destination TLS policies. */
export function tlsInvariants(r: ConfigReader, tls: TlsSettings, relay: RelayHost | undefined, allowAuthOnPort25: boolean): void {
  if (allowAuthOnPort25 && tls.smtpInboundTlsMinimum !== "TLSv1.2") {
    r.bad(k("smtpInboundTlsMinimum"), `${show(tls.smtpInboundTlsMinimum)} would let passwords travel over TLS 1.0/1.1 on port 25 (mailfleet:allowAuthOnPort25 is true); set it to "TLSv1.2" or turn allowAuthOnPort25 off`);
  }
  if (tls.source === "acme" && tls.keyBits === 3072) {
    r.bad(k("tlsKeyBits"), "3072 is not a key size the ACME client (lego) generates; use 2048 or 4096 with tlsCertificateSource acme");
  }
  if (relay) {
    r.forEach("smtpTlsPolicies", (entry, where) => {
      const p = parsePolicy(entry);
      if (typeof p !== "string" && p.destination === relay.nexthop) {
        r.bad(where, `${show(p.destination)} is the smarthost (mailfleet:relayHost), whose TLS level mailfleet sets (secure for a name, encrypt for an address); remove the entry`);
      }
    });
  }
}

/** With a smarthost every message goes to it: a per-destination family would never apply. */
export function networkInvariants(r: ConfigReader, network: NetworkPolicy, relayHost: string | undefined): void {
  if (!relayHost) return;
  for (const key of ["forceIpv4Domains", "forceIpv6Domains"]) {
    if (r.list(key).length) r.bad(k(key), `is set, but all mail leaves through the smarthost ${relayHost} (mailfleet:relayHost), so no destination is reached directly; remove the list, or the smarthost`);
  }
}

/** Submission on port 25 passes no milter: with AUTH there, mail would leave unsigned. */
export function dkimInvariants(r: ConfigReader, dkim: DkimSettings, allowAuthOnPort25: boolean): void {
  if (dkim.enabled && allowAuthOnPort25) {
    r.bad(k("allowAuthOnPort25"), "is true, but mail submitted on port 25 passes no milter, so it would leave unsigned while mailfleet:dkimSigning is on; have clients submit on 587/465, or turn dkimSigning off");
  }
}

/**
 * DNS-01 answers through the stack's RFC 2136 server: the host keeps that key for its renewals.
 * No other provider's credentials are kept on the host.
 */
export function acmeInvariants(r: ConfigReader, tls: TlsSettings): void {
  if (tls.acme?.challenge !== "dns-01") return;
  const kind = r.choice<DnsSettings["provider"]["kind"]>("dnsProvider");
  // A broken RFC 2136 setting is reported at its own key.
  if (kind === "rfc2136") return;
  const why = kind === "cloudflare"
    ? " (DNS-01 through Cloudflare is not supported: the host would have to keep the API token, which can edit every record of the zones)"
    : "";
  r.bad(k("acmeChallenge"), `"dns-01" needs mailfleet:dnsProvider rfc2136, not ${show(kind)}: lego on the host publishes the challenge record through that server with its TSIG key${why}; set dnsProvider to rfc2136 (with dnsServer and the key), or use "http-01"`);
}

/**
 * The published addresses against the trusted networks and the outbound source addresses: a
 * trusted /64 (or wider) holding the public IPv6 address is the provider's shared one, and a
 * public source address other than the published one fails SPF and forward-confirmed DNS.
 */
export function addressInvariants(r: ConfigReader, network: NetworkPolicy, dns: DnsSettings, hostAddress: string): void {
  for (const [key, bind, published, pub] of [["smtpBindAddress", network.smtpBindAddress, dns.publicIpv4, "publicIpv4"], ["smtpBindAddress6", network.smtpBindAddress6, dns.publicIpv6, "publicIpv6"]] as const) {
    if (bind && published && isPublicAddress(bind) && canonicalAddress(bind) !== published) {
      r.bad(k(key), `${show(bind)} is a public address other than mailfleet:${pub} (${published}), which the SPF and A/AAAA records name: mail sent from it would fail SPF; make them the same address`);
    }
  }
  // The host address was checked with the trusted networks already.
  const v6 = dns.publicIpv6;
  if (!v6 || v6 === hostAddress) return;
  r.forEach("trustedNetworks", (entry, where) => {
    const net = parseNetwork(entry);
    if (typeof net === "string" || net.family !== 6) return;
    const why = trustedNetworkProblem(net, v6);
    if (why) r.bad(where, `${show(entry)} ${why.replace(v6, `${v6} (mailfleet:publicIpv6)`)}`);
  });
}
