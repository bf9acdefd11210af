// Section: the host's certificate (self-signed or ACME), DH parameters and the TLS versions
// port 25 offers (docs/tls.md).
import { CONFIG_KEYS } from "./keys";
import { ConfigReader, k, show } from "./reader";

export type CertificateSourceKind = "self-signed" | "acme";
export type DhParamsMode = "regenerate" | "ffdhe" | "none";
export type InboundTlsMinimum = "TLSv1" | "TLSv1.2";
export type AcmeChallenge = "http-01" | "dns-01";

export interface AcmeSettings {
  /** RFC 8555 directory URL. */
  directoryUrl: string;
  /** Account contact. */
  email: string;
  /** PEM of an extra CA trusted for the directory's HTTPS; empty: system CAs only. */
  caCertificatePem: string;
  /** Renew when the certificate expires within this many days. */
  renewBeforeDays: number;
  /** http-01: lego on port 80; dns-01: a TXT record through the stack's RFC 2136 server. */
  challenge: AcmeChallenge;
}

export interface TlsSettings {
  source: CertificateSourceKind;
  /** RSA key size of the certificate (either source). */
  keyBits: number;
  /** Validity of a self-signed certificate in days. */
  validityDays: number;
  /** Present when source is "acme". */
  acme?: AcmeSettings;
  dhParams: DhParamsMode;
  dhParamBits: number;
  /** OnCalendar of the DH regeneration timer. */
  dhRegenerateSchedule: string;
  smtpInboundTlsMinimum: InboundTlsMinimum;
}

export function readTls(r: ConfigReader): TlsSettings {
  const source = r.choice<CertificateSourceKind>("tlsCertificateSource");
  return {
    source,
    keyBits: r.integer("tlsKeyBits"),
    validityDays: r.integer("tlsValidityDays"),
    acme: readAcme(r, source),
    dhParams: r.choice<DhParamsMode>("dhParams"),
    dhParamBits: r.integer("dhParamBits"),
    dhRegenerateSchedule: readSchedule(r),
    smtpInboundTlsMinimum: r.choice<InboundTlsMinimum>("smtpInboundTlsMinimum"),
  };
}

const ACME_KEYS = ["acmeEmail", "acmeCaCertificate", "acmeDirectoryUrl", "acmeRenewBeforeDays", "acmeChallenge"];

function readAcme(r: ConfigReader, source: CertificateSourceKind): AcmeSettings | undefined {
  const directoryUrl = (r.text("acmeDirectoryUrl") ?? "").trim();
  const email = (r.text("acmeEmail") ?? "").trim();
  const caCertificatePem = (r.text("acmeCaCertificate") ?? "").trim();
  const renewBeforeDays = r.integer("acmeRenewBeforeDays");
  const challenge = r.choice<AcmeChallenge>("acmeChallenge");
  if (source !== "acme") {
    // Pulumi's CLI hands every declared key over with its default: only a changed value counts.
    const set = ACME_KEYS.filter((key) => r.present(key) && r.text(key) !== String(CONFIG_KEYS[key].default));
    if (set.length) r.bad(k(set[0]), `is set but mailfleet:tlsCertificateSource is ${show(source)}; set tlsCertificateSource to "acme" or remove ${set.map(k).join(", ")}`);
    return undefined;
  }
  if (!/^https:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~\/%-]*)?$/.test(directoryUrl)) {
    r.bad(k("acmeDirectoryUrl"), `${show(directoryUrl)} is not an https:// URL of an ACME directory (e.g. https://acme-v02.api.letsencrypt.org/directory)`);
  }
  if (email === "") r.bad(k("acmeEmail"), "is required with tlsCertificateSource acme: the CA sends expiry notices there");
  else if (!/^[^\s@]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$/.test(email)) r.bad(k("acmeEmail"), `${show(email)} is not an e-mail address`);
  if (caCertificatePem !== "" && !/^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----(\n-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----)*$/.test(caCertificatePem.replace(/\r\n/g, "\n"))) {
    r.bad(k("acmeCaCertificate"), "is not one or more PEM certificates (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)");
  }
  return { directoryUrl, email, caCertificatePem: caCertificatePem.replace(/\r\n/g, "\n"), renewBeforeDays, challenge };
}

/** An OnCalendar expression in systemd.time(7)'s alphabet; the host's systemd-analyze verify checks the rest. */
function readSchedule(r: ConfigReader): string {
  const value = (r.text("dhRegenerateSchedule") ?? "").trim();
  if (!/^[A-Za-z0-9*:\/,. ~-]{1,64}$/.test(value)) {
    r.bad(k("dhRegenerateSchedule"), `${show(value)} is not a systemd calendar expression (e.g. daily, weekly, "Sun *-*-* 03:00:00")`);
  } else if (/^(minutely|hourly|secondly)$/i.test(value) || /\*:|:\*|\//.test(value)) {
    // Each run costs a minute or more of a core and reloads both daemons (emptying Dovecot's auth cache).
    r.bad(k("dhRegenerateSchedule"), `${show(value)} runs more often than daily; a generation costs a minute or more of a core and reloads Postfix and Dovecot: use daily, weekly or a fixed time such as "Sun *-*-* 03:00:00"`);
  }
  return value;
}
