// Runs testssl.sh 3.0.8 (Debian's `testssl`) against one TLS endpoint and reduces its flat JSON to
// a TlsProfile, then checks that profile against the NCSC-NL TLS guidelines as internet.nl tests
// them. Ids and finding formats read here are those of testssl.sh 3.0.8: protocols `SSLv2`..`TLS1_3`
// (run_protocols), per-protocol suites `cipher-<proto>_x<hex>` (run_cipher_per_proto, -E) and the
// finite-field groups `DH_groups` (run_pfs, -f).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";

export interface Finding {
  id: string;
  ip?: string;
  port?: string;
  severity: string;
  finding: string;
  cve?: string;
  cwe?: string;
  hint?: string;
}

export interface TestsslOptions {
  host: string;
  port: number;
  starttls?: "smtp" | "imap";
  /** Where testssl writes its flat JSON; an existing file is removed first (testssl refuses to overwrite). */
  outFile: string;
  /** Wall-clock limit for the whole run. @default 300 */
  timeoutSeconds?: number;
  /** testssl.sh executable; Debian installs it as `testssl`. @default "testssl" */
  binary?: string;
}

/**
 * -p protocols, -E suites per protocol, -f forward secrecy (the only source of the TLS 1.3 ffdhe
 * groups). Not `--fast`: it cuts -E down to one suite per protocol. Not `-4`: in 3.0.8 that is the
 * RC4 check, not IPv4 (IPv4 is the default; IPv6 needs -6). `--nodns none` keeps the run off DNS
 * (no rDNS of the target); 3.0.8 refuses it together with `--ip one`, which an IP target does not need.
 */
export const TESTSSL_FLAGS: readonly string[] = [
  "--quiet", "--color", "0", "--warnings", "batch", "--nodns", "none",
  "--connect-timeout", "10", "--openssl-timeout", "10", "-p", "-E", "-f",
];

export function runTestssl(opts: TestsslOptions): Finding[] {
  const seconds = opts.timeoutSeconds ?? 300;
  const target = `${opts.host}:${opts.port}`;
  const args = [...TESTSSL_FLAGS, ...(opts.starttls ? ["--starttls", opts.starttls] : []), "--jsonfile", opts.outFile, target];
  rmSync(opts.outFile, { force: true });
  // coreutils timeout signals its whole process group, so the openssl children testssl forks go too.
  const r = spawnSync("timeout", ["--kill-after=5", String(seconds), opts.binary ?? "testssl", ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: (seconds + 15) * 1000,
    maxBuffer: 16 * 1024 * 1024,
    // USLEEP_SND is testssl's pause after each ClientHello (0.1 s, an IDS-evasion knob per
    // testssl(1)); on loopback and test-host links 0 gave identical findings in 15-20% less time.
    env: { ...process.env, USLEEP_SND: "0" },
  });
  const fail = (why: string): never => {
    throw new Error(`testssl ${target}${opts.starttls ? ` (STARTTLS ${opts.starttls})` : ""} ${why}\n${tail(r.stdout)}${tail(r.stderr)}`);
  };
  if (r.error) fail(`could not run: ${r.error.message}`);
  if (r.status === 124 || r.status === 137 || r.signal) fail(`timed out after ${seconds} s (${r.signal ?? `exit ${r.status}`})`);
  const findings = existsSync(opts.outFile) ? readFindings(opts.outFile) : [];
  // "engine_problem" (no GOST engine in Debian's OpenSSL 3) is on every run and says nothing about the target.
  const problems = findings
    .filter((f) => (f.severity === "WARN" || f.severity === "FATAL") && f.id !== "engine_problem" && f.id !== "scanTime")
    .map((f) => `${f.id}: ${f.finding}`);
  if (r.status !== 0) fail(`exited with ${r.status}${problems.length ? `; ${problems.join("; ")}` : ""}`);
  if (findings.length === 0) fail(`left no JSON findings in ${opts.outFile}`);
  if (findings.some((f) => f.id === "scanTime" && /interrupted/i.test(f.finding))) fail(`scan interrupted; ${problems.join("; ")}`);
  return findings;
}

function tail(text: string | undefined, lines = 15): string {
  const kept = (text ?? "").split("\n").map((l) => l.trimEnd()).filter((l) => l.trim() !== "");
  return kept.length ? kept.slice(-lines).join("\n") + "\n" : "";
}

export function readFindings(file: string): Finding[] {
  const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (!Array.isArray(parsed)) throw new Error(`${file}: expected testssl flat JSON (an array of findings)`);
  return parsed as Finding[];
}

export const PROTOCOLS = ["SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3"] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** testssl's id infix in `cipher-<infix>_x<hex>` for each protocol. */
const CIPHER_ID_PROTOCOL: Record<string, Protocol> = {
  ssl2: "SSLv2", ssl3: "SSLv3", tls1: "TLS1", tls1_1: "TLS1_1", tls1_2: "TLS1_2", tls1_3: "TLS1_3",
};

export type Weakness = "anonymous" | "null" | "export" | "rc4" | "des" | "tripleDes" | "md5" | "rsaKeyExchange" | "sha1Cbc";

export interface CipherSuite {
  protocol: Protocol;
  hexcode: string;
  /** OpenSSL name, e.g. ECDHE-RSA-AES256-GCM-SHA384. */
  name: string;
  /** IANA name, e.g. TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384. */
  iana: string;
  /** Key exchange as testssl shows it: "ECDH 253", "DH 3072", "RSA". */
  kx: string;
  /** Bulk cipher as testssl shows it: AESGCM, AES, 3DES, RC4, None... */
  enc: string;
  /** Key bits, "None" for NULL, with ",exp" for export suites. */
  bits: string;
  weaknesses: Weakness[];
}

export type TlsProfile = {
  protocols: Record<Protocol, boolean>;
  ciphers: CipherSuite[];
  /** Finite-field DH prime sizes seen in offered suites and in DH_groups, ascending. */
  dhGroups: number[];
  /** DH_groups as named by testssl: ffdhe2048..8192, or a common prime such as "RFC3526/Oakley Group 14". */
  dhGroupNames: string[];
  /** Curves from PFS_ECDHE_curves. */
  curves: string[];
  /** testssl WARN findings on the ids read here: a protocol or group testssl could not test. */
  warnings: string[];
} & Record<Weakness, boolean>;

export const WEAKNESSES: readonly Weakness[] = ["anonymous", "null", "export", "rc4", "des", "tripleDes", "md5", "rsaKeyExchange", "sha1Cbc"];

export function parseCipherFinding(f: Finding): CipherSuite | undefined {
  const id = /^cipher-(ssl2|ssl3|tls1(?:_[123])?)_(x[0-9a-f]+)$/i.exec(f.id);
  if (!id) return undefined;
  // "TLS 1.2  xc030   ECDHE-RSA-AES256-GCM-SHA384  ECDH 253   AESGCM  256  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
  // (neat_list: hexcode, OpenSSL name, kx (may hold a space), enc, bits, IANA name)
  const rest = f.finding.replace(/^(SSLv[23]|TLS 1(?:\.[123])?)\s+/, "").trim().split(/\s+/);
  if (rest.length < 6) throw new Error(`unexpected testssl cipher finding ${f.id}: "${f.finding}"`);
  const protocol = CIPHER_ID_PROTOCOL[id[1].toLowerCase()];
  const n = rest.length;
  const suite = { protocol, hexcode: rest[0], name: rest[1], kx: rest.slice(2, n - 3).join(" "), enc: rest[n - 3], bits: rest[n - 2], iana: rest[n - 1] };
  return { ...suite, weaknesses: weaknessesOf(suite) };
}

function weaknessesOf(s: Omit<CipherSuite, "weaknesses">): Weakness[] {
  const checks: Record<Weakness, boolean> = {
    anonymous: /_anon_/i.test(s.iana) || /^A(EC)?DH-/.test(s.name),
    null: s.enc === "None" || /_NULL/.test(s.iana),
    export: /EXPORT/.test(s.iana) || /^EXP/.test(s.name) || /exp/.test(s.bits),
    rc4: s.enc === "RC4" || /_RC4_/.test(s.iana),
    des: s.enc === "DES" || /_DES(40)?_(64_)?CBC/.test(s.iana),
    tripleDes: s.enc === "3DES" || /3DES|DES_192_EDE3/.test(s.iana),
    md5: /_MD5(_1)?$/.test(s.iana) || /-MD5$/.test(s.name),
    rsaKeyExchange: /^RSA/.test(s.kx),
    sha1Cbc: /_CBC_SHA$/.test(s.iana),
  };
  return WEAKNESSES.filter((w) => checks[w]);
}

/** Sizes in bits named by a DH_groups finding; testssl names common primes without their size. */
export function dhGroupBits(name: string): number | undefined {
  const oakley: Record<string, number> = { "1": 768, "2": 1024, "5": 1536, "14": 2048, "15": 3072, "16": 4096, "17": 6144, "18": 8192 };
  const m =
    /ffdhe(\d+)/.exec(name) ?? /\((\d+) bits\)/.exec(name) ?? /(\d+)-bit MODP|(\d+)-bit DSA group/.exec(name);
  if (m) return Number(m[1] ?? m[2]);
  const group = /Oakley Group (\d+)/.exec(name);
  return group ? oakley[group[1]] : undefined;
}

function splitGroupNames(finding: string): string[] {
  const words = finding.trim().split(/\s+/);
  return words.every((w) => /^(RFC7919\/)?ffdhe\d+$/.test(w)) ? words : [finding.trim()];
}

export function summarize(findings: Finding[]): TlsProfile {
  const byId = new Map(findings.map((f) => [f.id, f]));
  const warnings: string[] = [];
  const protocols = {} as Record<Protocol, boolean>;
  for (const p of PROTOCOLS) {
    const f = byId.get(p);
    if (!f) throw new Error(`testssl findings have no "${p}" protocol result (was -p given?)`);
    // "offered", "offered (deprecated)", "offered with final", SSLv2's "vulnerable with N ciphers",
    // "supported but couldn't detect a cipher"; everything else is "not offered" in some wording.
    protocols[p] = /^(offered|vulnerable|supported)/.test(f.finding);
    if (f.severity === "WARN") warnings.push(`${p}: ${f.finding}`);
  }
  const ciphers = findings.map(parseCipherFinding).filter((c): c is CipherSuite => c !== undefined);
  const dhFinding = byId.get("DH_groups");
  const dhGroupNames = dhFinding ? splitGroupNames(dhFinding.finding) : [];
  if (dhFinding?.severity === "WARN") warnings.push(`DH_groups: ${dhFinding.finding}`);
  const sizes = [
    ...ciphers.map((c) => /^DH(?:EPSK)?[ (](\d+)/.exec(c.kx)?.[1]).filter((b): b is string => b !== undefined).map(Number),
    ...dhGroupNames.map(dhGroupBits).filter((b): b is number => b !== undefined),
  ];
  const flags = Object.fromEntries(WEAKNESSES.map((w) => [w, ciphers.some((c) => c.weaknesses.includes(w))])) as Record<Weakness, boolean>;
  return {
    protocols,
    ciphers,
    ...flags,
    dhGroups: [...new Set(sizes)].sort((a, b) => a - b),
    dhGroupNames,
    curves: (byId.get("PFS_ECDHE_curves")?.finding ?? "").split(/\s+/).filter(Boolean),
    warnings,
  };
}

export interface ProfileRules {
  /** The port carries passwords (submission 465/587, IMAP 993): TLS 1.2+, forward secrecy only, AEAD or SHA-2 MACs. */
  passwords: boolean;
  /** TLS 1.0 and 1.1 may stay on (port 25, where any TLS beats plain text). Ignored when `passwords`. */
  allowTls10: boolean;
}

const LABEL: Record<Weakness, string> = {
  anonymous: "anonymous", null: "NULL", export: "EXPORT", rc4: "RC4", des: "DES", tripleDes: "3DES",
  md5: "MD5", rsaKeyExchange: "RSA key exchange", sha1Cbc: "SHA-1 CBC",
};
const ALWAYS_FORBIDDEN: readonly Weakness[] = ["anonymous", "null", "export", "rc4", "des", "md5"];
const PASSWORD_FORBIDDEN: readonly Weakness[] = ["rsaKeyExchange", "tripleDes", "sha1Cbc"];

/**
 * NCSC-NL "IT Security Guidelines for TLS" as internet.nl applies them: one readable line per
 * protocol, per offending suite (named once, with every rule it breaks) and per too-small DH size.
 * @see https://english.ncsc.nl/publications/publications/2021/january/19/it-security-guidelines-for-transport-layer-security-2.1
 */
export function profileViolations(p: TlsProfile, rules: ProfileRules): string[] {
  const out: string[] = p.warnings.map((w) => `testssl could not decide ${w}`);
  const legacyOk = rules.allowTls10 && !rules.passwords;
  for (const proto of PROTOCOLS) {
    const forbidden = proto === "SSLv2" || proto === "SSLv3" || ((proto === "TLS1" || proto === "TLS1_1") && !legacyOk);
    if (forbidden && p.protocols[proto]) out.push(`offers ${proto}`);
  }
  const banned = rules.passwords ? [...ALWAYS_FORBIDDEN, ...PASSWORD_FORBIDDEN] : ALWAYS_FORBIDDEN;
  const seen = new Set<string>();
  for (const c of p.ciphers) {
    const broken = WEAKNESSES.filter((w) => banned.includes(w) && c.weaknesses.includes(w));
    if (broken.length === 0 || seen.has(c.name)) continue;
    seen.add(c.name);
    out.push(`offers ${c.name} (${broken.map((w) => LABEL[w]).join(", ")})`);
  }
  const floor = rules.passwords ? 3072 : 2048;
  for (const bits of p.dhGroups) if (bits < floor) out.push(`DH group ${bits} bits < ${floor}`);
  for (const name of p.dhGroupNames) if (dhGroupBits(name) === undefined) out.push(`DH group "${name}" of unknown size`);
  return out;
}
