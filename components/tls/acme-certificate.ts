// An ACME certificate issued and renewed on the host by lego (Debian's package), so renewal never
// waits for anyone to run `pulumi up` (docs/tls.md#acme), over HTTP-01 or, through the stack's
// RFC 2136 server, DNS-01. The account key and the certificate's key never leave the host and
// never enter Pulumi state.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { Rfc2136Server } from "../config/dns";
import type { AcmeSettings } from "../config/tls";
import { updateRequest } from "../dns/rfc2136";
import { hostTimer } from "../host/host-timer";
import { HostAccess, remoteStep } from "../host/remote";
import { CertificateSource, certificatePaths } from "./certificate-source";

export interface AcmeCertificateArgs {
  host: HostAccess;
  stack: string;
  /** The certificate's first name; also names the files. */
  hostname: string;
  /**
   * More names on the certificate (with HTTP-01 each must reach this host on port 80 while the CA
   * validates; with DNS-01 each one's zone must take updates with the key).
   * @default []
   */
  altNames?: string[];
  /** Directory URL, account e-mail, extra CA and renewal window. */
  acme: AcmeSettings;
  /** RSA key size: 2048 or 4096 (what lego generates). */
  keyBits: number;
  /**
   * With acme.challenge "dns-01": the RFC 2136 server and key lego publishes the challenge
   * records with (the secret a secret Input), and their TTL.
   */
  dns01?: { server: Rfc2136Server<pulumi.Input<string>>; ttl: number };
  /** Resources that must exist first (the host's packages and programs). */
  dependsOn?: pulumi.Resource[];
}

/** The certificate's names, first name first. */
function certificateNames(args: Pick<AcmeCertificateArgs, "hostname" | "altNames">): string[] {
  return [args.hostname, ...(args.altNames ?? []).filter((n) => n !== args.hostname)];
}

/**
 * What mailfleet-acme credentials reads on stdin: mailfleet-dns's request format, with the
 * challenge record of every name, which mailfleet-dns check tries the key on before it is kept.
 */
export function dns01Request(server: Omit<Rfc2136Server, "kind">, names: string[], ttl: number): string {
  return updateRequest(server, names.map((n) => ({ name: `_acme-challenge.${n}`, type: "TXT" as const, value: "mailfleet-acme key check" })), ttl);
}

/** The lines mailfleet-acme issue reads on stdin (no secrets: the account key is made on the host). */
export function acmeSettingsText(args: Pick<AcmeCertificateArgs, "hostname" | "altNames" | "acme" | "keyBits">): string {
  const { keyFile, certFile } = certificatePaths(args.hostname);
  const lines = [
    `server=${args.acme.directoryUrl}`,
    `email=${args.acme.email}`,
    `key_type=rsa${args.keyBits}`,
    `renew_days=${args.acme.renewBeforeDays}`,
    `challenge=${args.acme.challenge}`,
    ...certificateNames(args).map((d) => `domain=${d}`),
    `ca_pem_b64=${args.acme.caCertificatePem ? Buffer.from(`${args.acme.caCertificatePem}\n`).toString("base64") : ""}`,
    `cert_file=${certFile}`,
    `key_file=${keyFile}`,
  ];
  return `${lines.join("\n")}\n@@done ${lines.length}\n`;
}

/** The facts mailfleet-acme prints after an issue: notAfter=, sha256=, spkiSha256= and the PEM. */
export function parseAcmeStatus(stdout: string): { notAfter: string; sha256Fingerprint: string; spkiSha256: string; certPem: string } {
  const field = (name: string) => {
    const m = new RegExp(`^${name}=(.+)$`, "m").exec(stdout);
    if (!m) throw new Error(`mailfleet-acme printed no ${name}= line:\n${stdout.slice(-2000)}`);
    return m[1].trim();
  };
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(stdout);
  if (!pem) throw new Error(`mailfleet-acme printed no certificate:\n${stdout.slice(-2000)}`);
  return { notAfter: field("notAfter"), sha256Fingerprint: field("sha256"), spkiSha256: field("spkiSha256"), certPem: `${pem[0]}\n` };
}

/**
 * Issues the certificate on the first `up` (and when its names, CA or key size change), failing
 * with the CA's own reason when the order is refused; a timer renews it twice a day and reloads
 * Postfix and Dovecot only when a new certificate was installed. The outputs describe the
 * certificate as of the last `up` that ran the issue step; `mailfleet-acme status` on the host
 * tells the live one.
 * @see https://datatracker.ietf.org/doc/html/rfc8555
 */
export class AcmeCertificate extends pulumi.ComponentResource implements CertificateSource {
  public readonly keyFile: string;
  public readonly certFile: string;
  public readonly ready: command.remote.Command;
  public readonly certPem: pulumi.Output<string>;
  public readonly notAfter: pulumi.Output<string>;
  public readonly sha256Fingerprint: pulumi.Output<string>;
  public readonly spkiSha256: pulumi.Output<string>;
  /** The renewal timer's install step. */
  public readonly renewTimer: command.remote.Command;

  constructor(name: string, args: AcmeCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mailfleet:tls:AcmeCertificate", name, {}, opts);
    ({ keyFile: this.keyFile, certFile: this.certFile } = certificatePaths(args.hostname));
    if (args.keyBits !== 2048 && args.keyBits !== 4096) throw new pulumi.ResourceError(`ACME keys are 2048 or 4096 bits (lego), not ${args.keyBits}`, this);
    if ((args.acme.challenge === "dns-01") !== Boolean(args.dns01)) {
      throw new pulumi.ResourceError(`the ${args.acme.challenge} challenge ${args.dns01 ? "takes no DNS server" : "needs the RFC 2136 server and key (dns01)"}`, this);
    }
    const dependsOn = [...(args.dependsOn ?? [])];
    if (args.dns01) {
      const { server, ttl } = args.dns01;
      const names = certificateNames(args);
      // The key is tried on every challenge name, then kept on the host for the renewals.
      dependsOn.push(remoteStep(`${name}-dns01-key`, {
        host: args.host,
        create: "/usr/local/sbin/mailfleet-acme credentials",
        // A challenge record lives for minutes: a long TTL would let a resolver keep a stale one
        // through a retry. 120 s is lego's own default.
        stdin: pulumi.secret(pulumi.output(server.secret).apply((secret) => dns01Request({ ...server, secret }, names, Math.min(ttl, 120)))),
        secret: true,
        delete: "/usr/local/sbin/mailfleet-acme forget-credentials",
      }, { parent: this, dependsOn: args.dependsOn }));
    }
    this.ready = remoteStep(`${name}-issue`, {
      host: args.host,
      create: "/usr/local/sbin/mailfleet-acme issue",
      stdin: acmeSettingsText(args),
      // The live files stay (Postfix and Dovecot name them); the timer goes with its own step.
      delete: "rm -f /etc/mailfleet/acme/acme.conf /etc/mailfleet/acme/ca.pem",
    }, { parent: this, dependsOn });
    const facts = this.ready.stdout.apply(parseAcmeStatus);
    this.certPem = facts.certPem;
    this.notAfter = facts.notAfter;
    this.sha256Fingerprint = facts.sha256Fingerprint;
    this.spkiSha256 = facts.spkiSha256;
    this.renewTimer = hostTimer(`${name}-renew-timer`, {
      host: args.host,
      stack: args.stack,
      unit: "mailfleet-acme-renew",
      description: "Renew the ACME certificate when it is due and install it (mailfleet)",
      timerDescription: "Twice-daily ACME renewal check (mailfleet)",
      execStart: "/usr/local/sbin/mailfleet-acme renew",
      after: "network-online.target",
      onCalendar: "*-*-* 00,12:00:00",
      randomizedDelay: "1h",
    }, { parent: this, dependsOn: [this.ready] });
    this.registerOutputs({ notAfter: this.notAfter, sha256Fingerprint: this.sha256Fingerprint, spkiSha256: this.spkiSha256 });
  }
}
