// What the Postfix component and its renderer consume: the stack's mail policy as one group
// (read and defaulted by components/config/policy.ts), plus the directory and TLS file paths.
// No field here has a default of its own: the config key table owns every default.
import type { PeerTlsPolicy } from "../config/peer-tls";
import type { PostfixCapacity } from "./capacity";
import type { TlsProfile } from "../tls/profile";

/** One access(5) entry: sender address or domain, or cidr_table network, and the action. */
export interface AccessRule {
  key: string;
  /** e.g. `REJECT 5.7.1 text` (554) or `550 5.7.1 text` */
  action: string;
}

/** Operator policy for Postfix; see docs/postfix.md for each setting and its reason. */
export interface MailPolicy {
  /**
   * Networks besides loopback that may relay without AUTH, in Postfix syntax.
   * @example ["192.0.2.0/24", "[2001:db8::]/64"]
   * @see https://www.postfix.org/postconf.5.html#mynetworks
   */
  trustedNetworks: string[];
  /** Offer SMTP AUTH on port 25 too (always only after STARTTLS). */
  allowAuthOnPort25: boolean;
  /** Remove the client's own Received hop and `headerPrivacyStrip` from submitted mail. */
  headerPrivacy: boolean;
  /** Header names removed from submitted mail when headerPrivacy is on. */
  headerPrivacyStrip: string[];
  /** Discard users' read receipts (MDNs) and strip receipt requests; DSNs always pass. */
  blockReadReceipts: boolean;
  /** Envelope senders refused at RCPT on port 25 with the operator's text. */
  blockedSenders: AccessRule[];
  /** Client networks refused at RCPT on port 25 with the operator's text. */
  blockedClients: AccessRule[];
  /** reject_unknown_sender_domain on port 25 (needs DNS). */
  rejectUnknownSenderDomain: boolean;
  /**
   * SRS through postsrsd's lookup tables: outside senders of mail that leaves the host are
   * rewritten to the host name, replies to those addresses are routed back, and LMTP deliveries
   * get the original sender back.
   * @see https://github.com/roehling/postsrsd
   */
  srsForwarding: boolean;
  /** smtpd_client_auth_rate_limit per minute; 0: none. */
  authRateLimitPerMinute: number;
  /** bounce_queue_lifetime in days. */
  bounceQueueLifetimeDays: number;
  /** Run mailfleet-queue-cleanup daily from a systemd timer. */
  queueCleanupTimer: boolean;
  /** postscreen DNSBL sites with result filters; empty: postscreen off. */
  postscreenDnsblSites: string[];
  /** postscreen_dnsbl_threshold. */
  postscreenDnsblThreshold: number;
  /**
   * TLS required toward chosen next hops (tls_policy(5) entries); never a level that falls back to clear text.
   * @example [{ destination: "partner.example", level: "encrypt", match: [] }]
   * @see https://www.postfix.org/TLS_README.html#client_tls_policy
   */
  smtpTlsPolicies: PeerTlsPolicy[];
  /** The host's resolver validates DNSSEC (smtp_dns_support_level = dnssec). */
  dnssecResolver: boolean;
  /** inet_protocols = ipv4 (the host has no working IPv6); otherwise all. */
  ipv4Only: boolean;
  /** smtp_bind_address and smtp_bind_address6; "" leaves the choice to the kernel. */
  smtpBindAddress: string;
  smtpBindAddress6: string;
  /**
   * Destinations reached over one address family only, through the smtp-ipv4 / smtp-ipv6
   * transports (transport(5) keys: a domain, or .domain for its subdomains).
   * @example [{ destination: "example.com", family: 4 }]
   */
  addressFamilyRoutes: Array<{ destination: string; family: 4 | 6 }>;
}

/** Hosted domains, mailboxes and aliases, as the Postfix maps need them. */
export interface MailDirectory {
  hostname: string;
  domains: string[];
  /** Mailbox addresses, lower case. */
  mailboxes: string[];
  aliases: Array<{ source: string; targets: string[] }>;
  /** Receives postmaster@ and abuse@ of every hosted domain that has no explicit alias, and root. */
  postmaster: string;
}

export interface PostfixSettings extends MailDirectory, MailPolicy {
  stack: string;
  /** Submitted mail passes Rspamd's milter, which signs it with DKIM (docs/dkim.md). */
  dkimMilter: boolean;
  tlsKeyFile: string;
  tlsCertFile: string;
  /** Protocols, cipher exclusions and DH parameters of the server side (docs/tls.md#tls-profile). */
  tlsProfile: TlsProfile;
  /**
   * Smarthost for all outbound mail, `[host]:port`; `authenticated`: credentials are installed
   * (see smarthostCredentials). TLS is always required toward it, and a named smarthost's
   * certificate is verified against the system CAs (`secure`) so the password cannot be phished.
   * @see https://www.postfix.org/SASL_README.html#client_sasl
   */
  relayHost?: { nexthop: string; authenticated: boolean };
  /** Process and per-client limits derived from the host's size (docs/postfix.md#capacity). */
  capacity: PostfixCapacity;
}
