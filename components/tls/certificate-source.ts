// What every certificate source gives the mail services (docs/tls.md#certificate-sources):
// where the key and chain are on the host, when they are there, and what clients should trust.
// The self-signed certificate implements it today; an ACME source issued on the host slots in
// beside it without the Postfix or Dovecot components changing.
import * as pulumi from "@pulumi/pulumi";

export interface CertificateSource {
  /** The private key on the host (root:root 0600). */
  readonly keyFile: string;
  /** The certificate, leaf first then any intermediates, on the host (root:root 0644). */
  readonly certFile: string;
  /** Depend on this to run after the key and chain are in place. */
  readonly ready: pulumi.Resource;
  /** The PEM clients must trust (a self-signed leaf); undefined when a public CA signs. */
  readonly trustAnchorPem?: pulumi.Output<string>;
  /** ISO 8601 expiry of the current certificate. */
  readonly notAfter: pulumi.Output<string>;
}

/** Where the key and certificate of `hostname` live on the host (docs/tls.md#certificate-files). */
export function certificatePaths(hostname: string): { keyFile: string; certFile: string } {
  return { keyFile: `/etc/ssl/private/${hostname}.key`, certFile: `/etc/ssl/certs/${hostname}.crt` };
}
