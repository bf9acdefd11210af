// The whole mail host: a Debian host with Postfix and Dovecot, a TLS certificate, virtual
// domains and mailboxes. One instance per customer stack.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { assertSecure, SecurityCheckError } from "./checks/security-checks";
import { Dovecot, VMAIL_UID } from "./dovecot/dovecot";
import { dovecotConf } from "./dovecot/render";
import { DebianHost } from "./host/debian-host";
import { ANY_HOST_SIZE } from "./host/host-size";
import { hostTimer } from "./host/host-timer";
import { HostAccess } from "./host/remote";
import { Postfix, PostfixArgs, renderSettings, SmarthostArgs } from "./postfix/postfix";
import { postfixCapacity } from "./postfix/capacity";
import { mainCf, masterCf, POSTSRSD_FORWARD } from "./postfix/render";
import { POSTSRSD_DEFAULTS, postsrsdFiles } from "./postfix/srs";
import { installFiles } from "./host/install-files";
import { MailDirectory, MailPolicy } from "./postfix/settings";
import type { DkimSettings } from "./config/dkim";
import type { DnsSettings, Rfc2136Server } from "./config/dns";
import type { TlsSettings } from "./config/tls";
import { CloudflareAdapter } from "./dns/cloudflare";
import { DnsAdapter, noDnsAdapter, PublishedRecord } from "./dns/adapter";
import { DnsRecord, mailRecords } from "./dns/records";
import { Rfc2136Adapter } from "./dns/rfc2136";
import { AcmeCertificate } from "./tls/acme-certificate";
import { certificatePaths, CertificateSource } from "./tls/certificate-source";
import { DhParams } from "./tls/dh-params";
import { DkimSigner } from "./dkim/dkim-signer";
import { tlsProfileOf } from "./tls/profile";
import { SelfSignedCertificate } from "./tls/self-signed-certificate";

export interface MailServerArgs {
  /** How to reach the Debian 12 host over SSH (private key as a secret, host key pinned). */
  host: HostAccess;
  /** Stack name, written into every managed file's header. */
  stack: string;
  /**
   * Host name, hosted domains, mailboxes (each password a secret that reaches the host only on
   * stdin), aliases and the postmaster.
   * @example { hostname: "mail.example.net", domains: ["example.com"], mailboxes: [{ address: "john@example.com", password: config.requireSecret("john") }], aliases: [], postmaster: "john@example.com" }
   */
  directory: Omit<MailDirectory, "mailboxes"> & { mailboxes: Array<{ address: string; password: pulumi.Input<string> }> };
  /** SHA512-CRYPT rounds for new password hashes. */
  passwordHashRounds: number;
  /** Delete a removed mailbox's Maildir instead of archiving it (docs/dovecot.md#mailbox-lifecycle). */
  purgeRemovedMailboxes: boolean;
  /** Operator policy: relay trust, AUTH on 25, privacy, blocklists, queue (docs/postfix.md). */
  policy: MailPolicy;
  /** Smarthost for all outbound mail; TLS is required toward it (docs/postfix.md#smarthost). */
  relay?: SmarthostArgs;
  /**
   * The certificate's source (self-signed or ACME on the host), DH parameters and the TLS versions
   * port 25 offers (docs/tls.md).
   */
  tls: TlsSettings;
  /**
   * Overrides of the limits derived from the host's size; 0 derives (docs/dovecot.md#capacity,
   * docs/postfix.md#capacity).
   * @example { imapMaxSessions: 0, smtpdMaxProcesses: 0 }
   */
  capacity: { imapMaxSessions: number; smtpdMaxProcesses: number };
  /**
   * What the mail records say and who publishes them; an RFC 2136 key's secret must be a secret
   * Input (docs/dns.md).
   */
  dns: DnsSettings<pulumi.Input<string>>;
  /** DKIM signing of submitted mail by Rspamd, and the selectors (docs/dkim.md). */
  dkim: DkimSettings;
}

/** Debian packages of a mail host (docs/dovecot.md#packages); never dovecot-submissiond (it takes 587). */
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
  // mailfleet-users' keyed digests (Digest::SHA); perl-base alone lacks it.
  "perl",
];

/** Debian packages only some stacks need. */
function extraPackages(args: MailServerArgs): string[] {
  return [
    // lego: the ACME client that issues and renews on the host (docs/tls.md#acme).
    ...(args.tls.source === "acme" ? ["lego"] : []),
    // nsupdate and dig for mailfleet-dns (docs/dns.md#rfc-2136).
    ...(args.dns.provider.kind === "rfc2136" ? ["bind9-dnsutils"] : []),
    // The DKIM signer (docs/dkim.md).
    ...(args.dkim.enabled ? ["rspamd"] : []),
    // SRS for forwarded mail (docs/postfix.md#srs).
    ...(args.policy.srsForwarding ? ["postsrsd"] : []),
  ];
}

export class MailServer extends pulumi.ComponentResource {
  public readonly hostname: string;
  /** The certificate's PEM (self-signed: what clients must trust). */
  public readonly certificatePem: pulumi.Output<string>;
  public readonly certificateNotAfter: pulumi.Output<string>;
  /** SHA-256 of the certificate, lower-case hex. */
  public readonly certificateSha256: pulumi.Output<string>;
  /** SHA-256 of the certificate's public key: the data of a TLSA 3 1 1 record. */
  public readonly certificateSpkiSha256: pulumi.Output<string>;
  /** Every record the host needs, as data (docs/dns.md#records). */
  public readonly dnsRecords: pulumi.Output<DnsRecord[]>;

  constructor(name: string, args: MailServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mailfleet:index:MailServer", name, {}, opts);
    const { directory } = args;
    this.hostname = directory.hostname;
    const postfixArgs = this.postfixArgs(args, certificatePaths(directory.hostname));
    this.checkSecurity(postfixArgs, args.tls);
    const host = this.debianHost(name, args);
    const tls = this.certificate(name, args, host);
    const dh = new DhParams(`${name}-dh`, {
      host: args.host,
      stack: args.stack,
      mode: args.tls.dhParams,
      bits: args.tls.dhParamBits,
      schedule: args.tls.dhRegenerateSchedule,
      dependsOn: [host.ready],
    }, { parent: this });
    const dovecot = this.dovecot(name, args, host, tls, dh);
    const srs = args.policy.srsForwarding ? this.srs(name, args, host) : undefined;
    const postfix = new Postfix(`${name}-postfix`, {
      ...postfixArgs,
      host: args.host,
      hostSize: host.size,
      smtpdMaxProcesses: args.capacity.smtpdMaxProcesses,
      // main.cf names postsrsd's tables: they answer first.
      dependsOn: [dovecot.configured, ...(srs ? [srs] : [])],
    }, { parent: this });
    // The keys now; Rspamd signs with one only after its record is published (below).
    const dkim = args.dkim.enabled
      ? new DkimSigner(`${name}-dkim`, { host: args.host, stack: args.stack, domains: directory.domains, dkim: args.dkim, dependsOn: [host.ready, postfix.configured] }, { parent: this })
      : undefined;
    this.driftTimer(name, args, postfix);
    // The records' names and types are known now; only the TLSA digest waits for the certificate.
    const SPKI = "@@spki@@";
    const dkimKey = (selector: string) => `@@dkim-${selector}@@`;
    const shape = mailRecords({
      hostname: directory.hostname,
      domains: directory.domains,
      ipv4: args.dns.publicIpv4,
      ipv6: args.dns.publicIpv6,
      relayHost: args.relay && { host: args.relay.nexthop.replace(/^\[|\](:\d+)?$/g, "") },
      relaySpfInclude: args.dns.relaySpfInclude,
      dmarc: args.dns.dmarc,
      tlsaSpkiSha256: SPKI,
      dkimKeys: dkim?.publicKeys.map((k) => ({ selector: k.selector, publicKeyBase64: dkimKey(k.selector) })),
    });
    const fill = (value: string): pulumi.Input<string> => {
      if (value.includes(SPKI)) return tls.spkiSha256.apply((s) => value.replace(SPKI, s.toLowerCase()));
      const key = dkim?.publicKeys.find((k) => value.includes(dkimKey(k.selector)));
      return key ? key.publicKeyBase64.apply((p) => value.replace(dkimKey(key.selector), p)) : value;
    };
    const records: PublishedRecord[] = shape.map((r) => ({ ...r, value: fill(r.value) }));
    this.dnsRecords = pulumi.all(records.map((r) => r.value)).apply((vs) => records.map((r, i) => ({ ...r, value: vs[i] })));
    // Published once Postfix runs the new config: an MX must not lead to a host not yet ready.
    const published = this.dnsAdapter(args).publish(name, records, { parent: this, dependsOn: [postfix.configured] });
    // Signing starts (or moves to a new selector) once receivers can find the key. Until then
    // Rspamd answers the milter with Debian's settings, which sign nothing.
    dkim?.install(published);
    this.certificatePem = tls.certPem;
    this.certificateNotAfter = tls.notAfter;
    this.certificateSha256 = tls.sha256Fingerprint;
    this.certificateSpkiSha256 = tls.spkiSha256;
    this.registerOutputs({ hostname: this.hostname, certificatePem: this.certificatePem });
  }

  private dnsAdapter(args: MailServerArgs): DnsAdapter {
    const { provider } = args.dns;
    switch (provider.kind) {
      case "none":
        return noDnsAdapter;
      case "rfc2136":
        return new Rfc2136Adapter({ host: args.host, server: provider, ttl: args.dns.ttl });
      case "cloudflare":
        return new CloudflareAdapter({ account: provider, ttl: args.dns.ttl });
      default: {
        const never: never = provider;
        throw new Error(`unknown DNS provider ${JSON.stringify(never)}`);
      }
    }
  }

  /** The RFC 2136 server DNS-01 answers through (the config reader refuses any other provider). */
  private dns01Server(args: MailServerArgs): Rfc2136Server<pulumi.Input<string>> {
    const { provider } = args.dns;
    if (provider.kind !== "rfc2136") throw new pulumi.ResourceError(`the dns-01 challenge needs dnsProvider rfc2136, not ${provider.kind}`, this);
    return provider;
  }

  /** Self-signed (made by mailfleet) or ACME (issued and renewed on the host), behind one interface. */
  private certificate(name: string, args: MailServerArgs, host: DebianHost): CertificateSource {
    const { tls } = args;
    switch (tls.source) {
      case "self-signed":
        return new SelfSignedCertificate(`${name}-tls`, {
          host: args.host,
          hostname: args.directory.hostname,
          keyBits: tls.keyBits,
          validityDays: tls.validityDays,
          dependsOn: [host.ready],
        }, { parent: this });
      case "acme":
        if (!tls.acme) throw new pulumi.ResourceError("tls.acme is required with source acme", this);
        return new AcmeCertificate(`${name}-acme`, {
          host: args.host,
          stack: args.stack,
          hostname: args.directory.hostname,
          acme: tls.acme,
          keyBits: tls.keyBits,
          ...(tls.acme.challenge === "dns-01" ? { dns01: { server: this.dns01Server(args), ttl: args.dns.ttl } } : {}),
          dependsOn: [host.ready],
        }, { parent: this });
      default: {
        const never: never = tls.source;
        throw new Error(`unknown certificate source ${String(never)}`);
      }
    }
  }

  /**
   * postsrsd with the stack's host name and domains (docs/postfix.md#srs). Removed with
   * srsForwarding off, once main.cf no longer names its tables (deletes run after updates); on
   * destroy main.cf still names them, and it keeps running with the rest of the mail service.
   */
  private srs(name: string, args: MailServerArgs, host: DebianHost): command.remote.Command {
    const files = postsrsdFiles({ stack: args.stack, hostname: args.directory.hostname, domains: args.directory.domains });
    return installFiles(`${name}-srs`, args.host, "postsrsd", files, { parent: this, dependsOn: [host.ready] }, [
      `if ! postconf -h sender_canonical_maps recipient_canonical_maps lmtp_generic_maps | grep -qF ${POSTSRSD_FORWARD.replace(/^tcp:/, "")}; then systemctl disable --now --quiet postsrsd; rm -f ${POSTSRSD_DEFAULTS}; fi`,
    ]);
  }

  private postfixArgs(args: MailServerArgs, files: { keyFile: string; certFile: string }): Omit<PostfixArgs, "host" | "dependsOn" | "hostSize"> {
    return {
      stack: args.stack,
      ...args.directory,
      mailboxes: args.directory.mailboxes.map((m) => m.address),
      ...args.policy,
      tlsKeyFile: files.keyFile,
      tlsCertFile: files.certFile,
      tlsProfile: tlsProfileOf(args.tls),
      relayHost: args.relay,
      dkimMilter: args.dkim.enabled,
    };
  }

  private debianHost(name: string, args: MailServerArgs): DebianHost {
    return new DebianHost(`${name}-host`, {
      access: args.host,
      packages: [...MAIL_PACKAGES, ...extraPackages(args)],
      debconf: [
        // Debian starts Postfix at install: "Local only" listens on loopback until mailfleet's
        // main.cf replaces it ("No configuration" leaves it failing without a main.cf).
        "postfix postfix/main_mailer_type select Local only",
        `postfix postfix/mailname string ${args.directory.hostname}`,
      ],
    }, { parent: this });
  }

  private dovecot(name: string, args: MailServerArgs, host: DebianHost, tls: CertificateSource, dh: DhParams): Dovecot {
    return new Dovecot(`${name}-dovecot`, {
      host: args.host,
      stack: args.stack,
      hostname: args.directory.hostname,
      postmaster: args.directory.postmaster,
      tlsKeyFile: tls.keyFile,
      tlsCertFile: tls.certFile,
      tlsProfile: tlsProfileOf(args.tls),
      hostSize: host.size,
      imapMaxSessions: args.capacity.imapMaxSessions,
      smtpdMaxProcesses: args.capacity.smtpdMaxProcesses,
      ipv4Only: args.policy.ipv4Only,
      mailboxes: args.directory.mailboxes,
      passwordHashRounds: args.passwordHashRounds,
      purgeRemovedMailboxes: args.purgeRemovedMailboxes,
      dependsOn: [tls.ready, dh.ready],
    }, { parent: this });
  }

  /** Hourly mailfleet-drift: reports hand edits and stopped services to the postmaster (docs/drift.md). */
  private driftTimer(name: string, args: MailServerArgs, postfix: Postfix) {
    return hostTimer(`${name}-drift-timer`, {
      host: args.host,
      stack: args.stack,
      unit: "mailfleet-drift",
      description: "Compare the host with what mailfleet installed and report differences (mailfleet)",
      timerDescription: "Hourly drift check of the mail host (mailfleet)",
      execStart: "/usr/local/sbin/mailfleet-drift --mail",
      after: "postfix.service dovecot.service",
      onCalendar: "hourly",
      randomizedDelay: "10min",
    }, { parent: this, dependsOn: [postfix.configured] });
  }

  /** The named security checks over the rendered Postfix config, before any resource exists. */
  private checkSecurity(p: Omit<PostfixArgs, "host" | "dependsOn" | "hostSize">, tls: TlsSettings): void {
    // The capacity blocks depend on the host's size, not on anything a check reads: any size will do.
    const settings = renderSettings(p, postfixCapacity(ANY_HOST_SIZE, 0));
    const dovecot = dovecotConf({ ...p, hostname: p.hostname, tlsProfile: tlsProfileOf(tls), hostSize: ANY_HOST_SIZE, imapMaxSessions: 0, smtpdMaxProcesses: 0, vmailUid: VMAIL_UID, ipv4Only: p.ipv4Only });
    try {
      assertSecure({
        mainCf: mainCf(settings),
        masterCf: masterCf(settings),
        dovecotConf: dovecot.content,
        dhParamBits: tls.dhParams === "none" ? undefined : tls.dhParamBits,
      });
    } catch (err) {
      if (err instanceof SecurityCheckError) throw new pulumi.ResourceError(err.message, this);
      throw err;
    }
  }
}

