// Section: address families: IPv4-only hosts, outbound source addresses, and destinations that
// must be reached over one family (docs/postfix.md#address-families).
import { MailPolicy } from "../postfix/settings";
import { MailIdentity } from "./identity";
import { ConfigReader, k, show } from "./reader";
import { checkDomain, isIPv4, isIPv6 } from "./syntax";

export type NetworkPolicy = Pick<MailPolicy, "ipv4Only" | "smtpBindAddress" | "smtpBindAddress6" | "addressFamilyRoutes">;

export function readNetwork(r: ConfigReader, identity: MailIdentity): NetworkPolicy {
  const ipv4Only = r.boolean("ipv4Only");
  const smtpBindAddress = (r.text("smtpBindAddress") ?? "").trim();
  if (smtpBindAddress && !isIPv4(smtpBindAddress)) r.bad(k("smtpBindAddress"), `${show(smtpBindAddress)} is not an IPv4 address (an IPv6 source address goes in mailfleet:smtpBindAddress6)`);
  const smtpBindAddress6 = (r.text("smtpBindAddress6") ?? "").trim();
  if (smtpBindAddress6 && !isIPv6(smtpBindAddress6)) r.bad(k("smtpBindAddress6"), `${show(smtpBindAddress6)} is not an IPv6 address`);
  else if (smtpBindAddress6 && ipv4Only) r.bad(k("smtpBindAddress6"), "is set but mailfleet:ipv4Only is true, so Postfix sends no IPv6; remove one of them");
  const routes: NetworkPolicy["addressFamilyRoutes"] = [];
  for (const [key, family] of [["forceIpv4Domains", 4], ["forceIpv6Domains", 6]] as const) {
    r.forEach(key, (entry, where) => {
      const domain = entry.startsWith(".") ? entry.slice(1) : entry;
      const why = checkDomain(domain);
      if (why) return r.bad(where, `${show(entry)} ${why}`);
      // transport(5): "example.com" matches that domain only, ".example.com" its subdomains only.
      const hosted = [...identity.domains, identity.hostname].find((d) => (entry.startsWith(".") ? d.endsWith(entry) : d === entry));
      if (hosted) return r.bad(where, `${show(entry)} covers ${show(hosted)}, which this host delivers itself (no SMTP, no address family); remove the entry`);
      const twice = routes.find((x) => x.destination === entry);
      if (twice) return r.bad(where, `${show(entry)} is already forced to IPv${twice.family}${twice.family === family ? "; remove the duplicate" : " in the other list; keep it in one of them"}`);
      if (family === 6 && ipv4Only) return r.bad(where, `${show(entry)} is forced to IPv6, but mailfleet:ipv4Only is true; remove the entry or turn ipv4Only off`);
      routes.push({ destination: entry, family });
    });
  }
  return { ipv4Only, smtpBindAddress, smtpBindAddress6, addressFamilyRoutes: routes };
}
