// Reads and validates a mailfleet stack's configuration in one pass, before any resource exists.
// Pure: it takes the raw config map (as Pulumi hands it to the program) and returns the typed
// groups the components consume, or every problem at once. Secret values are never echoed.
// One module per concern reads its keys (host, identity, mailboxes, aliases, policy, relay, tls);
// rules that tie sections together live in invariants.ts; keys, defaults and ranges in keys.ts.
import { MailDirectory, MailPolicy } from "../postfix/settings";
import { Alias, readAliases } from "./aliases";
import { HostConnection, readHost } from "./host";
import { readIdentity } from "./identity";
import { Mailbox, readMailboxes } from "./mailboxes";
import { readPolicy } from "./policy";
import { DkimSettings, readDkim } from "./dkim";
import { DnsSettings, readDns } from "./dns";
import { ConfigError, ConfigReader } from "./reader";
import { readRelay, RelayHost } from "./relay";
import { readTls, TlsSettings } from "./tls";
import { acmeInvariants, addressInvariants, dkimInvariants, networkInvariants, tlsInvariants } from "./invariants";

export { CONFIG_KEYS, NAMESPACE } from "./keys";
export type { KeySpec } from "./keys";
export { ConfigError } from "./reader";
export type { Alias, DkimSettings, DnsSettings, HostConnection, Mailbox, RelayHost, TlsSettings };

export interface MailConfig {
  stack: string;
  host: HostConnection;
  /** Host name, domains, mailboxes (with plaintext passwords, in memory only), aliases, postmaster. */
  directory: Omit<MailDirectory, "mailboxes"> & { mailboxes: Mailbox[]; aliases: Alias[] };
  passwordHashRounds: number;
  purgeRemovedMailboxes: boolean;
  policy: MailPolicy;
  relay?: RelayHost;
  tls: TlsSettings;
  /** Overrides of the limits derived from the host's size (docs/dovecot.md#capacity, docs/postfix.md#capacity). */
  capacity: { imapMaxSessions: number; smtpdMaxProcesses: number };
  /** What the mail records say and who publishes them (docs/dns.md). */
  dns: DnsSettings;
  /** DKIM signing of submitted mail (docs/dkim.md). */
  dkim: DkimSettings;
}

/**
 * Reads the raw config (`{"mailfleet:key": "string value"}`, arrays as JSON text, exactly what
 * `pulumi.runtime.allConfig()` returns) and the set of keys stored as secrets.
 * Throws ConfigError listing every problem.
 */
export function readConfig(stack: string, raw: Record<string, string>, secretKeys: ReadonlySet<string>): MailConfig {
  const r = new ConfigReader(stack, raw, secretKeys);
  const host = readHost(r);
  const identity = readIdentity(r);
  const boxes = readMailboxes(r, identity);
  const { aliases, postmaster } = readAliases(r, identity, boxes);
  const policy = readPolicy(r, identity, host);
  const relay = readRelay(r);
  const tls = readTls(r);
  tlsInvariants(r, tls, relay, policy.allowAuthOnPort25);
  const capacity = readCapacity(r);
  const dkim = readDkim(r);
  dkimInvariants(r, dkim, policy.allowAuthOnPort25);
  const dns = readDns(r, relay, policy.ipv4Only, [identity.hostname, ...identity.domains]);
  networkInvariants(r, policy, relay?.host);
  addressInvariants(r, policy, dns, host.address);
  acmeInvariants(r, tls);
  if (r.problems.length) throw new ConfigError(stack, r.problems);
  return {
    stack,
    host,
    directory: { hostname: identity.hostname, domains: identity.domains, mailboxes: boxes.mailboxes, aliases, postmaster },
    passwordHashRounds: boxes.passwordHashRounds,
    purgeRemovedMailboxes: boxes.purgeRemovedMailboxes,
    policy,
    relay,
    tls,
    capacity,
    dns,
    dkim,
  };
}

function readCapacity(r: ConfigReader): MailConfig["capacity"] {
  const smtpdMaxProcesses = r.integer("smtpdMaxProcesses");
  if (smtpdMaxProcesses > 0 && smtpdMaxProcesses < 20) {
    r.bad("mailfleet:smtpdMaxProcesses", `${smtpdMaxProcesses} leaves too few smtpd processes for mail and submission to share (a slow sender holds one for minutes): set at least 20, or 0 to derive it from the host's memory`);
  }
  return { imapMaxSessions: r.integer("imapMaxSessions"), smtpdMaxProcesses };
}
