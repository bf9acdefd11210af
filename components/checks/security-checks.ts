// Security invariants as named checks over the rendered Postfix configuration (in the manner of
// cdk-nag): each has a stable ID, a one-line summary and the reason. They run before any resource
// is created; a failure stops the run and names the check. docs/security-checks.md explains each.
import { Network, parseNetwork } from "../config/syntax";

export interface RenderedPostfix {
  mainCf: string;
  masterCf: string;
  /** Dovecot's dovecot.conf (IMAP on 993 carries passwords too). */
  dovecotConf?: string;
  /** Size of the DH group in the parameters file both daemons name. */
  dhParamBits?: number;
}

interface Service {
  name: string;
  type: string;
  command: string;
  /** -o overrides */
  options: Map<string, string>;
}

export interface ParsedPostfix {
  main: Map<string, string>;
  services: Service[];
  /** Top-level `name = value` settings of dovecot.conf; empty when not given. */
  dovecot: Map<string, string>;
  dhParamBits?: number;
}

/** dovecot.conf's top-level settings (sections and their contents are skipped). */
export function parseDovecotConf(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let depth = 0;
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (t === "" || t.startsWith("#")) continue;
    if (t.endsWith("{")) depth++;
    else if (t === "}") depth--;
    else if (depth === 0) {
      const m = /^([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(t);
      if (m) out.set(m[1], m[2].trim());
    }
  }
  return out;
}

/** main.cf: `name = value`, continuation lines start with white space, whole-line comments. */
export function parseMainCf(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split("\n")) {
    if (/^\s*(#|$)/.test(line)) continue;
    if (/^\s/.test(line) && last) {
      out.set(last, `${out.get(last)} ${line.trim()}`.trim());
      continue;
    }
    const m = /^([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`main.cf: cannot parse line "${line}"`);
    last = m[1];
    out.set(m[1], m[2].trim());
  }
  return out;
}

/** master.cf: service lines and their `-o name=value` continuation lines. */
export function parseMasterCf(text: string): Service[] {
  const services: Service[] = [];
  for (const line of text.split("\n")) {
    if (/^\s*(#|$)/.test(line)) continue;
    if (/^\s/.test(line)) {
      const m = /^\s+-o\s+([A-Za-z0-9_]+)=(.*)$/.exec(line);
      if (m && services.length) services[services.length - 1].options.set(m[1], m[2].trim());
      continue;
    }
    const f = line.trim().split(/\s+/);
    services.push({ name: f[0], type: f[1], command: f[7] ?? "", options: new Map() });
  }
  return services;
}

export function parsePostfix(r: RenderedPostfix): ParsedPostfix {
  return { main: parseMainCf(r.mainCf), services: parseMasterCf(r.masterCf), dovecot: parseDovecotConf(r.dovecotConf ?? ""), dhParamBits: r.dhParamBits };
}

const list = (v: string | undefined) => (v ?? "").split(/[\s,]+/).filter(Boolean);

/** The effective value of a parameter for a service: its -o override, else main.cf. */
function effective(p: ParsedPostfix, s: Service, name: string): string {
  const raw = s.options.get(name) ?? p.main.get(name) ?? "";
  // master.cf overrides like $mua_client_restrictions refer back to main.cf.
  return raw.replace(/^\$([a-z_]+)$/, (_, ref: string) => p.main.get(ref) ?? "");
}

/** Services that run smtpd for remote clients: port 25 (smtpd directly or behind postscreen), 587, 465. */
function smtpdServices(p: ParsedPostfix): Service[] {
  return p.services.filter((s) => s.command === "smtpd" && (s.type === "inet" || s.type === "pass"));
}

function isPort25(s: Service): boolean {
  return (s.type === "inet" && (s.name === "smtp" || s.name === "25")) || s.type === "pass";
}

/** Services that accept a password: smtpd with SASL enabled. */
function authServices(p: ParsedPostfix): Service[] {
  return smtpdServices(p).filter((s) => effective(p, s, "smtpd_sasl_auth_enable") === "yes");
}

function requiresTls(p: ParsedPostfix, s: Service): boolean {
  return effective(p, s, "smtpd_tls_wrappermode") === "yes" || effective(p, s, "smtpd_tls_security_level") === "encrypt";
}

/** Cipher exclusions in force for a service: both lists at a mandatory level, the first otherwise. */
function excludedCiphers(p: ParsedPostfix, s: Service): string[] {
  return [
    ...list(effective(p, s, "smtpd_tls_exclude_ciphers")),
    ...(requiresTls(p, s) ? list(effective(p, s, "smtpd_tls_mandatory_exclude_ciphers")) : []),
  ];
}

function dheOffered(excluded: string[]): boolean {
  return !excluded.some((x) => x === "kDHE" || x === "DHE" || x === "EDH" || x === "kEDH");
}

/** A DH parameters file is named (not empty or auto, which is OpenSSL's 2048-bit group) and holds 3072 bits or more. */
function dhFloorMet(file: string, bits: number | undefined): boolean {
  return file !== "" && file !== "auto" && bits !== undefined && bits >= 3072;
}

export interface SecurityCheck {
  id: string;
  summary: string;
  explanation: string;
  /** The problem, or undefined when compliant. */
  evaluate(p: ParsedPostfix): string | undefined;
}

const RELAY_PERMITS = new Set(["permit_mynetworks", "permit_sasl_authenticated"]);

export const SECURITY_CHECKS: SecurityCheck[] = [
  {
    id: "MAIL-RELAY-1",
    summary: "smtpd_relay_restrictions ends in reject_unauth_destination and permits only mynetworks and SASL clients",
    explanation: "Relay control belongs in smtpd_relay_restrictions (Postfix >= 2.10). Anything but permit_mynetworks/permit_sasl_authenticated before reject_unauth_destination can open the relay; the compatibility default defer_unauth_destination only defers (4xx).",
    evaluate(p) {
      const r = list(p.main.get("smtpd_relay_restrictions"));
      if (r[r.length - 1] !== "reject_unauth_destination") return `smtpd_relay_restrictions = ${r.join(", ")} does not end in reject_unauth_destination`;
      const extra = r.slice(0, -1).filter((x) => !RELAY_PERMITS.has(x) && !x.startsWith("check_") && !x.startsWith("reject"));
      if (extra.length) return `smtpd_relay_restrictions permits ${extra.join(", ")} before reject_unauth_destination`;
      return undefined;
    },
  },
  {
    id: "MAIL-RELAY-2",
    summary: "every master.cf override of the relay restrictions ends in a reject and permits only mynetworks or SASL clients",
    explanation: "A master.cf -o smtpd_relay_restrictions override replaces main.cf's (checked by MAIL-RELAY-1); on 587/465 it must be permit_sasl_authenticated, reject.",
    evaluate(p) {
      for (const s of smtpdServices(p).filter((x) => x.options.has("smtpd_relay_restrictions"))) {
        const r = list(effective(p, s, "smtpd_relay_restrictions"));
        const last = r[r.length - 1];
        if (last !== "reject" && last !== "reject_unauth_destination") return `service ${s.name}: smtpd_relay_restrictions = ${r.join(", ")} does not end in reject or reject_unauth_destination`;
        const extra = r.slice(0, -1).filter((x) => !RELAY_PERMITS.has(x) && !x.startsWith("check_") && !x.startsWith("reject"));
        if (extra.length) return `service ${s.name}: smtpd_relay_restrictions permits ${extra.join(", ")}`;
      }
      return undefined;
    },
  },
  {
    id: "MAIL-AUTH-1",
    summary: "SMTP AUTH is offered only over TLS",
    explanation: "smtpd_tls_auth_only = yes keeps passwords off unencrypted sessions; every service with SASL enabled must either require TLS or keep smtpd_tls_auth_only = yes.",
    evaluate(p) {
      for (const s of smtpdServices(p)) {
        if (effective(p, s, "smtpd_sasl_auth_enable") !== "yes") continue;
        if (!requiresTls(p, s) && effective(p, s, "smtpd_tls_auth_only") !== "yes") return `service ${s.name} offers AUTH without requiring TLS (smtpd_tls_auth_only is not yes)`;
      }
      return undefined;
    },
  },
  {
    id: "MAIL-AUTH-2",
    summary: "submission services (587, 465) require TLS and accept only authenticated clients",
    explanation: "RFC 6409/8314: 587 with STARTTLS required (smtpd_tls_security_level = encrypt), 465 with implicit TLS, and smtpd_client_restrictions that reject clients without SASL.",
    evaluate(p) {
      for (const s of smtpdServices(p).filter((x) => !isPort25(x))) {
        if (!requiresTls(p, s)) return `service ${s.name} does not require TLS`;
        const c = list(effective(p, s, "smtpd_client_restrictions"));
        if (c[0] !== "permit_sasl_authenticated" || c[c.length - 1] !== "reject") return `service ${s.name}: smtpd_client_restrictions = ${c.join(", ")} does not reject unauthenticated clients`;
      }
      return undefined;
    },
  },
  {
    id: "MAIL-TLS-1",
    summary: "port 25 keeps opportunistic TLS (never encrypt or wrapper mode)",
    explanation: "RFC 3207: a publicly referenced MX must not require TLS; wrapper mode on 25 breaks every MTA (docs/postfix.md#tls).",
    evaluate(p) {
      for (const s of smtpdServices(p).filter(isPort25)) {
        if (requiresTls(p, s)) return `service ${s.name} (port 25) requires TLS`;
      }
      return undefined;
    },
  },
  {
    id: "MAIL-TLS-2",
    summary: "no anonymous (aNULL) or NULL suites where a password is accepted",
    explanation: "An anonymous suite has no certificate: whoever sits between client and server reads the password (docs/tls.md#tls-profile). Postfix's own cipher lists include them unless excluded; every service offering AUTH, and Dovecot, must exclude aNULL and eNULL.",
    evaluate(p) {
      for (const s of authServices(p)) {
        const excluded = excludedCiphers(p, s);
        for (const need of ["aNULL", "eNULL"]) if (!excluded.includes(need)) return `service ${s.name} offers AUTH without excluding ${need} suites`;
      }
      const dovecot = p.dovecot.get("ssl_cipher_list");
      if (dovecot !== undefined && !["!aNULL", "!eNULL"].every((x) => dovecot.split(":").includes(x))) return `dovecot ssl_cipher_list = ${dovecot} does not exclude !aNULL and !eNULL`;
      return undefined;
    },
  },
  {
    id: "MAIL-TLS-3",
    summary: "where passwords travel: TLS 1.2 or newer, and finite-field DH only with groups of at least 3072 bits",
    explanation: "NCSC-NL's TLS guidelines rate TLS 1.0/1.1 and DH groups under 3072 bits 'phase out'; Postfix's OpenSSL default DH group (auto) is 2048 bits and OpenSSL offers ffdhe2048 under TLS 1.3 unless the group list leaves it out (docs/tls.md#tls-profile).",
    evaluate(p) {
      for (const s of authServices(p)) {
        const mandatory = requiresTls(p, s);
        const protocols = effective(p, s, mandatory ? "smtpd_tls_mandatory_protocols" : "smtpd_tls_protocols");
        if (protocols !== ">=TLSv1.2" && protocols !== ">=TLSv1.3") return `service ${s.name} offers AUTH over ${protocols || "every TLS version"} (needs >=TLSv1.2)`;
        if (dheOffered(excludedCiphers(p, s)) && !dhFloorMet(effective(p, s, "smtpd_tls_dh1024_param_file"), p.dhParamBits)) {
          return `service ${s.name} offers DHE with ${p.dhParamBits ?? "OpenSSL's 2048"}-bit parameters (needs 3072 or more)`;
        }
      }
      if (!p.dovecot.size) return undefined;
      if (!["TLSv1.2", "TLSv1.3"].includes(p.dovecot.get("ssl_min_protocol") ?? "")) return `dovecot ssl_min_protocol = ${p.dovecot.get("ssl_min_protocol")} (needs TLSv1.2)`;
      const curves = p.dovecot.get("ssl_curve_list") ?? "";
      if (curves === "" || /ffdhe2048/i.test(curves)) return "dovecot ssl_curve_list leaves ffdhe2048 to TLS 1.3 (set the group list)";
      const dhe = !(p.dovecot.get("ssl_cipher_list") ?? "").split(":").some((x) => x === "!kDHE" || x === "!DHE" || x === "!EDH");
      if (dhe && !dhFloorMet(p.dovecot.get("ssl_dh") ?? "", p.dhParamBits)) return `dovecot offers DHE with ${p.dhParamBits ?? "unknown"}-bit parameters (needs 3072 or more)`;
      return undefined;
    },
  },
  {
    id: "MAIL-NET-1",
    summary: "mynetworks keeps loopback",
    explanation: "Local programs submit over 127.0.0.1/::1; replacing mynetworks with a LAN (as an old guide's postconf -e mynetworks=... does) drops them.",
    evaluate(p) {
      const n = list(p.main.get("mynetworks"));
      for (const need of ["127.0.0.0/8", "[::1]/128"]) if (!n.includes(need)) return `mynetworks lacks ${need}`;
      return undefined;
    },
  },
  {
    id: "MAIL-NET-2",
    summary: "mynetworks never trusts a whole provider LAN (nothing wider than an IPv4 /24 or an IPv6 /64)",
    explanation: "Clients in mynetworks relay without AUTH. On hosting LANs the neighbours are other customers: trusting the LAN makes an open relay for them. Customers authenticate instead.",
    evaluate(p) {
      for (const entry of list(p.main.get("mynetworks"))) {
        if (entry === "127.0.0.0/8" || entry === "[::ffff:127.0.0.0]/104") continue;
        const net = parseNetwork(entry) as Network | string;
        if (typeof net === "string") return `mynetworks entry ${entry} ${net}`;
        if ((net.family === 4 && net.prefix < 24) || (net.family === 6 && net.prefix < 64)) return `mynetworks trusts ${entry}`;
      }
      return undefined;
    },
  },
  {
    id: "MAIL-PRIVACY-1",
    summary: "header privacy applies to submitted mail only, never to inbound mail",
    explanation: "Stripping Received headers from inbound mail destroys the trace (RFC 5321 4.4) and disables Postfix's hop-count loop protection; global header_checks must not IGNORE Received.",
    evaluate(p) {
      const cleanup = p.services.filter((s) => s.name === "cleanup");
      if (p.main.get("header_checks")?.includes("submission_header_checks")) return "main.cf header_checks points at the submission rules (they would apply to inbound mail)";
      for (const s of cleanup) if (s.options.has("header_checks")) return "the inbound cleanup service has a header_checks override";
      return undefined;
    },
  },
];

export class SecurityCheckError extends Error {
  constructor(readonly failures: Array<{ id: string; problem: string; summary: string }>) {
    super(`security checks failed, nothing was sent to the host:\n${failures.map((f) => ` - ${f.id} (${f.summary}): ${f.problem}`).join("\n")}`);
    this.name = "SecurityCheckError";
  }
}

/** Runs every check; throws SecurityCheckError naming each failed check. */
export function assertSecure(r: RenderedPostfix): void {
  const parsed = parsePostfix(r);
  const failures = SECURITY_CHECKS.flatMap((c) => {
    const problem = c.evaluate(parsed);
    return problem ? [{ id: c.id, problem, summary: c.summary }] : [];
  });
  if (failures.length) throw new SecurityCheckError(failures);
}
