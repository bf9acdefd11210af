// Section: the mail host's name and the hosted domains.
import { hostedDomainProblem } from "./invariants";
import { ConfigReader, k, show } from "./reader";
import { checkDomain } from "./syntax";

export interface MailIdentity {
  /** Fully qualified name of the mail host: myhostname, HELO name, certificate name. */
  hostname: string;
  /** Hosted domains (virtual_mailbox_domains), valid and unique. */
  domains: string[];
  /**
   * The domains as listed, valid or not, so that a mailbox in a mistyped domain is reported
   * once (at the domain) and not again at every mailbox.
   */
  listedDomains: string[];
  /** The domain list could not be read at all: checks against it stay quiet. */
  domainsBroken: boolean;
}

export function readIdentity(r: ConfigReader): MailIdentity {
  const hostname = r.text("hostname") ?? "";
  if (r.present("hostname")) {
    const why = checkDomain(hostname);
    if (why) r.bad(k("hostname"), `${show(hostname)} ${why}; the mail host needs a fully qualified name such as mail.example.net`);
  }
  const domains: string[] = [];
  const listedDomains = r.list("domains");
  const domainsBroken = r.broken.has("domains");
  if (r.present("domains") && listedDomains.length === 0 && !domainsBroken) r.bad(k("domains"), "is empty; list at least one hosted domain");
  r.forEach("domains", (d, where) => {
    const why = checkDomain(d);
    if (why) return r.bad(where, `${show(d)} ${why}`);
    if (domains.includes(d)) return r.bad(where, `${show(d)} is listed twice; remove the duplicate`);
    const clash = hostedDomainProblem(d, hostname);
    if (clash) return r.bad(where, `${show(d)} ${clash}`);
    domains.push(d);
  });
  return { hostname, domains, listedDomains, domainsBroken };
}
