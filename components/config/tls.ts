// Section: the TLS certificate (self-signed today; a certificate source option comes with ACME).
import { ConfigReader } from "./reader";

export interface TlsSettings {
  /** RSA key size of the certificate. */
  keyBits: number;
  /** Validity of a self-signed certificate in days. */
  validityDays: number;
}

export function readTls(r: ConfigReader): TlsSettings {
  return { keyBits: r.integer("tlsKeyBits"), validityDays: r.integer("tlsValidityDays") };
}
