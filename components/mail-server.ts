// The whole mail host: a Debian host with Postfix and Dovecot, a TLS certificate, virtual
// domains and mailboxes. One instance per customer stack.
import * as pulumi from "@pulumi/pulumi";
import { DebianHost } from "./debian-host";
import { Dovecot } from "./dovecot";
import { Postfix } from "./postfix";
import { HostAccess } from "./remote";
import { SelfSignedCertificate } from "./tls-certificate";

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
];

export class MailServer extends pulumi.ComponentResource {
  public readonly hostname: string;
  /** The certificate clients must trust (self-signed). */
  public readonly certificatePem: pulumi.Output<string>;
  public readonly certificateNotAfter: pulumi.Output<string>;

  constructor(name: string, args: MailServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mailfleet:index:MailServer", name, {}, opts);
    this.hostname = args.hostname;
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
    new Postfix(`${name}-postfix`, {
      host: args.host,
      stack: args.stack,
      hostname: args.hostname,
      domains: args.domains,
      mailboxes: args.mailboxes.map((m) => m.address),
      aliases: args.aliases ?? [],
      postmaster: args.postmaster,
      trustedNetworks: args.trustedNetworks ?? [],
      tlsKeyFile: tls.keyFile,
      tlsCertFile: tls.certFile,
      dependsOn: [dovecot.configured],
    }, { parent: this });
    this.certificatePem = tls.certPem;
    this.certificateNotAfter = tls.notAfter;
    this.registerOutputs({ hostname: this.hostname, certificatePem: this.certificatePem });
  }
}
