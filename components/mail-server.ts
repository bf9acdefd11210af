// The whole mail host: a Debian host with Postfix and Dovecot, a TLS certificate, virtual
// domains and mailboxes. One instance per customer stack.
import * as pulumi from "@pulumi/pulumi";
import { assertSecure, SecurityCheckError } from "./checks";
import { DebianHost } from "./debian-host";
import { Dovecot } from "./dovecot";
import { Postfix, PostfixArgs, renderSettings } from "./postfix";
import { AccessRule, mainCf, masterCf } from "./postfix.render";
import { HostAccess } from "./remote";
import { certificatePaths, SelfSignedCertificate } from "./tls-certificate";

export interface MailServerArgs {
  /** How to reach the Debian 12 host over SSH (private key as a secret, host key pinned). */
  host: HostAccess;
  /** Stack name, written into every managed file's header. */
  stack: string;
  /**
   * The host's fully qualified name: myhostname, HELO name and certificate name.
   * @example "mail.example.net"
   */
  hostname: string;
  /**
   * Hosted domains (virtual_mailbox_domains).
   * @example ["example.com", "example.org"]
   */
  domains: string[];
  /**
   * Mailboxes; each password is a secret and reaches the host only on stdin.
   * @example [{ address: "john@example.com", password: config.requireSecret("johnPassword") }]
   */
  mailboxes: Array<{ address: string; password: pulumi.Input<string> }>;
  /**
   * Virtual aliases; targets are mailboxes, aliases or external addresses.
   * @default []
   * @example [{ source: "info@example.com", targets: ["john@example.com"] }]
   */
  aliases?: Array<{ source: string; targets: string[] }>;
  /** Receives postmaster@, abuse@ (every hosted domain without its own alias) and root mail. */
  postmaster: string;
  /**
   * Networks besides loopback that may relay without AUTH, in Postfix syntax.
   * @default []
   * @see https://www.postfix.org/postconf.5.html#mynetworks
   */
  trustedNetworks?: string[];
  /** @default 2048 */
  tlsKeyBits?: number;
  /** @default 825 */
  tlsValidityDays?: number;
  /** SHA512-CRYPT rounds for new password hashes. @default 100000 */
  passwordHashRounds?: number;
  /** Offer AUTH on port 25 too (only after STARTTLS). @default false */
  allowAuthOnPort25?: boolean;
  /** Remove the client's hop and identifying headers from submitted mail (F-09). @default true */
  headerPrivacy?: boolean;
  /** @default ["X-Originating-IP", "X-Mailer", "User-Agent", "X-PHP-Originating-Script"] */
  headerPrivacyStrip?: string[];
  /** Discard users' read receipts; bounces always pass (F-14). @default false */
  blockReadReceipts?: boolean;
  /**
   * Smarthost for all outbound mail; TLS is required toward it (F-08).
   * @example { nexthop: "[smtp.provider.example]:587", username: "acme", password: config.requireSecret("relayPassword") }
   */
  relayHost?: PostfixArgs["relayHost"];
  /** Senders refused at RCPT on port 25 with the operator's text (F-16). @default [] */
  blockedSenders?: AccessRule[];
  /** Client networks refused at RCPT on port 25 (F-16). @default [] */
  blockedClients?: AccessRule[];
  /** @default true */
  rejectUnknownSenderDomain?: boolean;
  /** @default 30 */
  authRateLimitPerMinute?: number;
  /** @default 1 */
  bounceQueueLifetimeDays?: number;
  /** Daily mailfleet-queue-cleanup (F-15). @default false */
  queueCleanupTimer?: boolean;
  /** postscreen DNSBLs with result filters; empty: postscreen off (F-17.2). @default [] */
  postscreenDnsblSites?: string[];
  /** @default 3 */
  postscreenDnsblThreshold?: number;
}

/** Debian packages of a mail host (mailspec F-01.1); never dovecot-submissiond (it takes 587). */
export const MAIL_PACKAGES = [
  "postfix",
  "libsasl2-modules",
  "dovecot-core",
  "dovecot-imapd",
  "dovecot-lmtpd",
  "ca-certificates",
  "openssl",
  // mailfleet-queue-cleanup reads postqueue's JSON.
  "jq",
];

export class MailServer extends pulumi.ComponentResource {
  public readonly hostname: string;
  /** The certificate clients must trust (self-signed). */
  public readonly certificatePem: pulumi.Output<string>;
  public readonly certificateNotAfter: pulumi.Output<string>;

  constructor(name: string, args: MailServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mailfleet:index:MailServer", name, {}, opts);
    this.hostname = args.hostname;
    const { keyFile: tlsKeyFile, certFile: tlsCertFile } = certificatePaths(args.hostname);
    const postfixArgs: Omit<PostfixArgs, "host" | "dependsOn"> = {
      stack: args.stack,
      hostname: args.hostname,
      domains: args.domains,
      mailboxes: args.mailboxes.map((m) => m.address),
      aliases: args.aliases ?? [],
      postmaster: args.postmaster,
      trustedNetworks: args.trustedNetworks ?? [],
      tlsKeyFile,
      tlsCertFile,
      allowAuthOnPort25: args.allowAuthOnPort25,
      headerPrivacy: args.headerPrivacy,
      headerPrivacyStrip: args.headerPrivacyStrip,
      blockReadReceipts: args.blockReadReceipts,
      relayHost: args.relayHost,
      blockedSenders: args.blockedSenders,
      blockedClients: args.blockedClients,
      rejectUnknownSenderDomain: args.rejectUnknownSenderDomain,
      authRateLimitPerMinute: args.authRateLimitPerMinute,
      bounceQueueLifetimeDays: args.bounceQueueLifetimeDays,
      queueCleanupTimer: args.queueCleanupTimer,
      postscreenDnsblSites: args.postscreenDnsblSites,
      postscreenDnsblThreshold: args.postscreenDnsblThreshold,
    };
    this.checkSecurity(postfixArgs);
    const host = new DebianHost(`${name}-host`, {
      access: args.host,
      stack: args.stack,
      packages: MAIL_PACKAGES,
      debconf: [
        // Debian starts Postfix at install: "Local only" listens on loopback until mailfleet's
        // main.cf replaces it ("No configuration" leaves it failing without a main.cf).
        "postfix postfix/main_mailer_type select Local only",
        `postfix postfix/mailname string ${args.hostname}`,
      ],
    }, { parent: this });
    const tls = new SelfSignedCertificate(`${name}-tls`, {
      host: args.host,
      hostname: args.hostname,
      keyBits: args.tlsKeyBits,
      validityDays: args.tlsValidityDays,
      dependsOn: [host.ready],
    }, { parent: this });
    const dovecot = new Dovecot(`${name}-dovecot`, {
      host: args.host,
      stack: args.stack,
      hostname: args.hostname,
      postmaster: args.postmaster,
      tlsKeyFile: tls.keyFile,
      tlsCertFile: tls.certFile,
      mailboxes: args.mailboxes,
      passwordHashRounds: args.passwordHashRounds,
      dependsOn: [tls.installed],
    }, { parent: this });
    new Postfix(`${name}-postfix`, { ...postfixArgs, host: args.host, dependsOn: [dovecot.configured] }, { parent: this });
    this.certificatePem = tls.certPem;
    this.certificateNotAfter = tls.notAfter;
    this.registerOutputs({ hostname: this.hostname, certificatePem: this.certificatePem });
  }

  /** The named security checks over the rendered Postfix config, before any resource exists. */
  private checkSecurity(p: Omit<PostfixArgs, "host" | "dependsOn">): void {
    const settings = renderSettings(p);
    try {
      assertSecure({ mainCf: mainCf(settings), masterCf: masterCf(settings) });
    } catch (err) {
      if (err instanceof SecurityCheckError) throw new pulumi.ResourceError(err.message, this);
      throw err;
    }
  }
}
