// Rules that tie one config section to another, in one place. Each returns the reason a value is
// refused (worded to follow `"value" ...`), or undefined. The sections call them where the
// offending key is read, so every problem is reported at the key the operator has to change.
import { ROLE_ADDRESSES } from "../postfix/role-addresses";
import { MailIdentity } from "./identity";
import { parseAddress } from "./syntax";

/** A hosted domain must differ from the host's own name (mydestination vs virtual domains). */
export function hostedDomainProblem(domain: string, hostname: string): string | undefined {
  return domain === hostname
    ? "is the host name; a hosted domain must differ from mailfleet:hostname (Postfix must not list a domain in both mydestination and virtual_mailbox_domains)"
    : undefined;
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

/** Blocking a hosted domain as a sender would refuse the customers' own mail. */
export function blockedSenderProblem(key: string, identity: MailIdentity): string | undefined {
  return identity.domains.includes(key) ? "is a hosted domain; blocking it would refuse your own customers' mail" : undefined;
}
