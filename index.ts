// mailfleet: read the stack config, validate all of it, build the mail server, export outputs.
import * as pulumi from "@pulumi/pulumi";
import { readConfig } from "./components/config";
import { ptrWarnings } from "./components/config/dns";
import { zoneLine } from "./components/dns/records";
import { MailServer } from "./components/mail-server";

const stack = pulumi.getStack();
const raw = pulumi.runtime.allConfig();
// isConfigSecret is exported by @pulumi/pulumi's runtime but left out of its typings.
const isSecret = (pulumi.runtime as unknown as { isConfigSecret(key: string): boolean }).isConfigSecret;
// Validation sees plaintext in memory only; every secret is wrapped before it reaches a resource.
const config = readConfig(stack, raw, new Set(Object.keys(raw).filter((k) => isSecret(k))));
const { directory, relay, dns } = config;
for (const warning of ptrWarnings(directory.hostname, dns)) pulumi.log.warn(warning);

/** The DNS provider with its credential wrapped as a secret. */
function secretProvider(p: typeof dns.provider) {
  switch (p.kind) {
    case "none":
      return p;
    case "rfc2136":
      return { ...p, secret: pulumi.secret(p.secret) };
    case "cloudflare":
      return { ...p, apiToken: pulumi.secret(p.apiToken) };
  }
}

const server = new MailServer("mail", {
  host: { ...config.host, privateKey: pulumi.secret(config.host.privateKey) },
  stack,
  directory: { ...directory, mailboxes: directory.mailboxes.map((m) => ({ address: m.address, password: pulumi.secret(m.password) })) },
  passwordHashRounds: config.passwordHashRounds,
  purgeRemovedMailboxes: config.purgeRemovedMailboxes,
  policy: config.policy,
  relay: relay && { nexthop: relay.nexthop, username: relay.username, password: pulumi.secret(relay.password) },
  tls: config.tls,
  capacity: config.capacity,
  dkim: config.dkim,
  dns: { ...dns, provider: secretProvider(dns.provider) },
});

export const hostname = server.hostname;
export const domains = directory.domains;
export const mailboxes = directory.mailboxes.map((m) => m.address);
export const certificatePem = server.certificatePem;
export const certificateNotAfter = server.certificateNotAfter;
export const certificateSha256 = server.certificateSha256;
/** TLSA 3 1 1 data (SHA-256 of the public key; stable across ACME renewals, which reuse the key). */
export const certificateSpkiSha256 = server.certificateSpkiSha256;
/** The mail records, one zone-file line each (PTR is the operator's; docs/dns.md#records). */
export const dnsRecords = server.dnsRecords.apply((rs) => rs.map((r) => zoneLine(r)));
/** The same as a zone snippet with TTLs, for a DNS the stack does not publish to. */
export const dnsZone = server.dnsRecords.apply((rs) => `${rs.map((r) => `${/<the SPF domain of /.test(r.value) ? "; set mailfleet:relaySpfInclude: " : ""}${zoneLine(r, dns.ttl)}`).join("\n")}\n`);
