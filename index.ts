// mailfleet: read the stack config, validate all of it, build the mail server, export outputs.
import * as pulumi from "@pulumi/pulumi";
import { readConfig } from "./components/config";
import { MailServer } from "./components/mail-server";

const stack = pulumi.getStack();
const raw = pulumi.runtime.allConfig();
// isConfigSecret is exported by @pulumi/pulumi's runtime but left out of its typings.
const isSecret = (pulumi.runtime as unknown as { isConfigSecret(key: string): boolean }).isConfigSecret;
// Validation sees plaintext in memory only; every secret is wrapped before it reaches a resource.
const config = readConfig(stack, raw, new Set(Object.keys(raw).filter((k) => isSecret(k))));

const server = new MailServer("mail", {
  host: {
    address: config.host.address,
    port: config.host.port,
    user: config.host.user,
    privateKey: pulumi.secret(config.host.privateKey),
    hostKey: config.host.hostKey,
  },
  stack,
  hostname: config.hostname,
  domains: config.domains,
  mailboxes: config.mailboxes.map((m) => ({ address: m.address, password: pulumi.secret(m.password) })),
  aliases: config.aliases,
  postmaster: config.postmaster,
  trustedNetworks: config.trustedNetworks.map((n) => n.postfix),
  tlsKeyBits: config.tlsKeyBits,
  tlsValidityDays: config.tlsValidityDays,
  passwordHashRounds: config.passwordHashRounds,
  allowAuthOnPort25: config.allowAuthOnPort25,
  headerPrivacy: config.headerPrivacy,
  headerPrivacyStrip: config.headerPrivacyStrip,
  blockReadReceipts: config.blockReadReceipts,
  relayHost: config.relayHost && {
    nexthop: config.relayHost.nexthop,
    username: config.relayHost.username,
    password: pulumi.secret(config.relayHost.password),
  },
  blockedSenders: config.blockedSenders,
  blockedClients: config.blockedClients,
  rejectUnknownSenderDomain: config.rejectUnknownSenderDomain,
  authRateLimitPerMinute: config.authRateLimitPerMinute,
  bounceQueueLifetimeDays: config.bounceQueueLifetimeDays,
  queueCleanupTimer: config.queueCleanupTimer,
  postscreenDnsblSites: config.postscreenDnsblSites,
  postscreenDnsblThreshold: config.postscreenDnsblThreshold,
});

export const hostname = server.hostname;
export const domains = config.domains;
export const mailboxes = config.mailboxes.map((m) => m.address);
export const certificatePem = server.certificatePem;
export const certificateNotAfter = server.certificateNotAfter;
/**
 * What to publish in DNS for mail to reach this host (A/AAAA and PTR are the operator's). With a
 * smarthost, mail leaves from the provider's servers: their SPF must be included instead of mx.
 */
export const dnsRecords = config.domains.flatMap((d) => [
  `${d}. MX 10 ${config.hostname}.`,
  config.relayHost
    ? `${d}. TXT "v=spf1 include:<the SPF domain of ${config.relayHost.host}> -all"`
    : `${d}. TXT "v=spf1 mx -all"`,
]);
