// A self-signed TLS certificate for the mail host, installed where Postfix and Dovecot read it.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { installFiles } from "../host/install-files";
import { HostAccess } from "../host/remote";
import { certificateFacts, CertificateSource, certificatePaths } from "./certificate-source";
import { CERTIFICATE_PROFILE, SelfSignedResource } from "./self-signed.provider";

export interface SelfSignedCertificateArgs {
  host: HostAccess;
  /** Certificate subject and first subjectAltName; also names the files. */
  hostname: string;
  /**
   * More DNS names clients use (e.g. `imap.example.com`).
   * @default []
   */
  altNames?: string[];
  /** RSA key size in bits. */
  keyBits: number;
  /** Validity in days. */
  validityDays: number;
  /**
   * Replace the certificate on the first `pulumi up` this close to expiry.
   * @default the smaller of 30 and a third of validityDays (a short validity must not renew on every run)
   */
  renewBeforeDays?: number;
  /** Resources that must exist first (the host's packages). */
  dependsOn?: pulumi.Resource[];
}

/**
 * Key at /etc/ssl/private/<hostname>.key (root:root 0600) and certificate at
 * /etc/ssl/certs/<hostname>.crt (root:root 0644), docs/tls.md. The key exists only in Pulumi
 * state (as a secret) and on the host. A self-signed certificate suits MX-to-MX traffic; clients
 * on 587/465/993 must be given certPem as their trust anchor (or use ACME).
 * @see https://www.postfix.org/postconf.5.html#smtpd_tls_chain_files
 */
export class SelfSignedCertificate extends pulumi.ComponentResource implements CertificateSource {
  public readonly keyFile: string;
  public readonly certFile: string;
  /** PEM of the certificate: the trust anchor for clients. */
  public readonly certPem: pulumi.Output<string>;
  public readonly notAfter: pulumi.Output<string>;
  /** The install step; depend on it to run after the files are in place. */
  public readonly ready: command.remote.Command;
  /** Clients pin the certificate itself. */
  public readonly trustAnchorPem: pulumi.Output<string>;
  public readonly sha256Fingerprint: pulumi.Output<string>;
  public readonly spkiSha256: pulumi.Output<string>;

  constructor(name: string, args: SelfSignedCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mailfleet:tls:SelfSignedCertificate", name, {}, opts);
    ({ keyFile: this.keyFile, certFile: this.certFile } = certificatePaths(args.hostname));
    const validityDays = args.validityDays;
    const cert = new SelfSignedResource(`${name}-cert`, {
      profile: CERTIFICATE_PROFILE,
      commonName: args.hostname,
      altNames: [...new Set(args.altNames ?? [])].sort(),
      keyBits: args.keyBits,
      validityDays,
      renewBeforeDays: args.renewBeforeDays ?? Math.min(30, Math.floor(validityDays / 3)),
    }, { parent: this });
    this.certPem = cert.certPem;
    this.notAfter = cert.notAfter;
    this.trustAnchorPem = cert.certPem;
    const facts = cert.certPem.apply(certificateFacts);
    this.sha256Fingerprint = facts.sha256Fingerprint;
    this.spkiSha256 = facts.spkiSha256;
    this.ready = installFiles(`${name}-install`, args.host, "tls", [
      { path: this.keyFile, owner: "root", group: "root", mode: "0600", kind: "plain", content: pulumi.secret(cert.privateKeyPem), secret: true },
      { path: this.certFile, owner: "root", group: "root", mode: "0644", kind: "plain", content: cert.certPem },
    ], { parent: this, dependsOn: args.dependsOn });
    this.registerOutputs({ certPem: this.certPem, notAfter: this.notAfter });
  }
}
