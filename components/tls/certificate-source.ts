// What every certificate source gives the mail services (docs/tls.md#certificate-sources):
// where the key and chain are on the host, when they are there, what clients should trust, and
// the facts a TLSA record or an operator needs. SelfSignedCertificate and AcmeCertificate
// implement it; the Postfix and Dovecot components read only this.
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";

export interface CertificateSource {
  /** The private key on the host (root:root 0600). */
  readonly keyFile: string;
  /** The certificate, leaf first then any intermediates, on the host (root:root 0644). */
  readonly certFile: string;
  /** Depend on this to run after the key and chain are in place. */
  readonly ready: pulumi.Resource;
  /** PEM of the leaf certificate. */
  readonly certPem: pulumi.Output<string>;
  /** The PEM clients must trust (a self-signed leaf); undefined when a CA signs. */
  readonly trustAnchorPem?: pulumi.Output<string>;
  /** ISO 8601 expiry of the current certificate. */
  readonly notAfter: pulumi.Output<string>;
  /** SHA-256 of the certificate (DER), lower-case hex. */
  readonly sha256Fingerprint: pulumi.Output<string>;
  /** SHA-256 of the SubjectPublicKeyInfo (DER), lower-case hex: the data of a TLSA 3 1 1 record. */
  readonly spkiSha256: pulumi.Output<string>;
}

/** Where the key and certificate of `hostname` live on the host (docs/tls.md#certificate-files). */
export function certificatePaths(hostname: string): { keyFile: string; certFile: string } {
  return { keyFile: `/etc/ssl/private/${hostname}.key`, certFile: `/etc/ssl/certs/${hostname}.crt` };
}

/** Fingerprints of a PEM certificate, computed the way openssl x509 / TLSA 3 1 1 do. */
export function certificateFacts(pem: string): { sha256Fingerprint: string; spkiSha256: string } {
  const cert = new crypto.X509Certificate(pem);
  const spki = cert.publicKey.export({ type: "spki", format: "der" });
  return {
    sha256Fingerprint: crypto.createHash("sha256").update(cert.raw).digest("hex"),
    spkiSha256: crypto.createHash("sha256").update(spki).digest("hex"),
  };
}
