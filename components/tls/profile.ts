// Pure: the one TLS profile of the host's servers, as Postfix and Dovecot settings
// (docs/tls.md#tls-profile). Measured against the NCSC-NL TLS guidelines that internet.nl tests:
// nothing rated "insufficient" on any port; where passwords travel (465, 587, 993) nothing rated
// "phase out" either. Port 25 stays opportunistic (RFC 7435): refusing old TLS there would only
// push old senders to clear text, so TLS 1.0/1.1 stay on unless smtpInboundTlsMinimum says otherwise.
import type { DhParamsMode, InboundTlsMinimum, TlsSettings } from "../config/tls";

export interface TlsProfile {
  dhParams: DhParamsMode;
  /** Size of the finite-field DH group (regenerate and ffdhe). */
  dhParamBits: number;
  smtpInboundTlsMinimum: InboundTlsMinimum;
}

/** The profile part of the stack's TLS settings. */
export function tlsProfileOf(tls: Pick<TlsSettings, keyof TlsProfile>): TlsProfile {
  return { dhParams: tls.dhParams, dhParamBits: tls.dhParamBits, smtpInboundTlsMinimum: tls.smtpInboundTlsMinimum };
}

/** The DH parameters both daemons read (root:root 0644, not secret), written by mailfleet-dhparams. */
export const DH_PARAM_FILE = "/etc/mailfleet/tls/dh.pem";

/** Suites no port offers: anonymous, NULL, EXPORT, RC4, DES, MD5, and pre-shared-key families no mail client uses. */
const NEVER = ["aNULL", "eNULL", "EXPORT", "RC4", "DES", "MD5", "PSK", "SRP"];
/** Also excluded where passwords travel: RSA key exchange (no forward secrecy), 3DES, SHA-1 MACs (the SHA-1 CBC suites), DSS. */
const PHASE_OUT = ["kRSA", "3DES", "SHA1", "DSS", "CAMELLIA", "ARIA"];
/** ECDHE only: every finite-field DHE suite. */
const NO_DHE = ["kDHE"];

/** TLS 1.3 key exchange groups: elliptic curves only, so no ffdhe2048 under TLS 1.3 either. */
const GROUPS = ["X25519", "X448", "P-256", "P-521", "P-384"];

export interface PostfixTls {
  /** smtpd_tls_protocols (port 25, opportunistic). */
  protocols: string;
  /** smtpd_tls_mandatory_protocols (587, 465). */
  mandatoryProtocols: string;
  /** smtpd_tls_exclude_ciphers: every port. */
  excludeCiphers: string;
  /** smtpd_tls_mandatory_exclude_ciphers: added at mandatory levels (587, 465). */
  mandatoryExcludeCiphers: string;
  /** smtpd_tls_dh1024_param_file. */
  dhParamFile: string;
}

export function postfixTls(p: TlsProfile): PostfixTls {
  return {
    protocols: `>=${p.smtpInboundTlsMinimum}`,
    mandatoryProtocols: ">=TLSv1.2",
    excludeCiphers: [...NEVER, ...(p.dhParams === "none" ? NO_DHE : [])].join(", "),
    mandatoryExcludeCiphers: PHASE_OUT.join(", "),
    // "auto" leaves DH to OpenSSL, but with kDHE excluded no suite uses it.
    dhParamFile: p.dhParams === "none" ? "auto" : DH_PARAM_FILE,
  };
}

export interface DovecotTls {
  /** ssl_cipher_list (TLS 1.2; TLS 1.3 suites are all AEAD). */
  cipherList: string;
  /** ssl_curve_list. */
  curveList: string;
  /** The ssl_dh line, or a comment when there is none. */
  dhLine: string;
}

export function dovecotTls(p: TlsProfile): DovecotTls {
  const excluded = [...NEVER, ...PHASE_OUT, ...(p.dhParams === "none" ? NO_DHE : [])];
  return {
    cipherList: ["HIGH", ...excluded.map((c) => `!${c}`)].join(":"),
    curveList: GROUPS.join(":"),
    dhLine: p.dhParams === "none" ? "# ssl_dh unset: ECDHE only (mailfleet:dhParams none)" : `ssl_dh = <${DH_PARAM_FILE}`,
  };
}
