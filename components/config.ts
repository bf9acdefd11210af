// Reads and validates a mailfleet stack's configuration in one pass, before any resource exists.
// Pure: it takes the raw config map (as Pulumi hands it to the program) and returns a typed
// config or every problem at once. Secret values are never echoed in a message.
import * as YAML from "yaml";
import { AccessRule, DEFAULT_PRIVACY_STRIP, ROLE_ADDRESSES } from "./postfix.render";
import {
  checkDomain,
  checkExternalAddress,
  checkHeaderName,
  checkReplyText,
  checkHostAddress,
  checkHostKey,
  Network,
  parseAddress,
  parseNetwork,
} from "./validate";

export const NAMESPACE = "mailfleet";

type KeyType = "string" | "integer" | "boolean" | "array";

export interface KeySpec {
  type: KeyType;
  description: string;
  secret?: boolean;
  /**
   * An optional secret: Pulumi's CLI makes every declared key without a default required and
   * refuses a `secret: true` key whose value came from a default, so optional secrets are declared
   * with an empty default and the program refuses a value that is not stored encrypted.
   */
  secretWhenSet?: boolean;
  /** Absent: the key is required. */
  default?: string | number | boolean | string[];
}

/**
 * Every config key the program reads. Pulumi.yaml's `config:` schema mirrors this table (a unit
 * test keeps them equal); Pulumi's project schema allows only string, integer, boolean and arrays
 * of those, so structured values are written as strings (aliases) or one YAML secret (passwords).
 */
export const CONFIG_KEYS: Record<string, KeySpec> = {
  hostAddress: { type: "string", description: "IP address or DNS name of the Debian 12 host to provision over SSH." },
  sshPort: { type: "integer", default: 22, description: "SSH port of the host." },
  sshUser: {
    type: "string",
    default: "root",
    description: "SSH login user; root, or a user with passwordless sudo (commands then run under `sudo -n`).",
  },
  sshPrivateKey: {
    type: "string",
    secret: true,
    description: "SSH private key (OpenSSH or PEM) for the login: pulumi config set --secret mailfleet:sshPrivateKey < key.",
  },
  sshHostKey: {
    type: "string",
    description: 'The host\'s SSH public host key, pinned: "ssh-ed25519 AAAA..." (ssh-keyscan -t ed25519 HOST, without the host field).',
  },
  hostname: {
    type: "string",
    description: "Fully qualified name of the mail host (myhostname, HELO, certificate name); needs A/AAAA and matching PTR records.",
  },
  domains: {
    type: "array",
    description: "Hosted mail domains (virtual mailbox domains). Never the host name itself.",
  },
  mailboxes: {
    type: "array",
    default: [],
    description: "Mailbox addresses (local@domain, lower case) stored as Maildir under /var/vmail/<domain>/<local>.",
  },
  mailboxPasswords: {
    type: "string",
    secret: true,
    description: 'YAML map of mailbox address to password, one secret: pulumi config set --secret mailfleet:mailboxPasswords < passwords.yaml. Stored on the host only as SHA512-CRYPT hashes.',
  },
  aliases: {
    type: "array",
    default: [],
    description: 'Aliases, each "alias@domain: target[, target...]"; targets are hosted mailboxes or aliases, or external addresses (forwarding).',
  },
  postmaster: {
    type: "string",
    default: "",
    description: "Where postmaster@, abuse@ (every hosted domain, unless aliased explicitly) and root mail go. Default: the first mailbox.",
  },
  trustedNetworks: {
    type: "array",
    default: [],
    description: "Extra networks (CIDR) allowed to relay without AUTH, added to loopback in mynetworks. Customers should authenticate instead.",
  },
  allowAuthOnPort25: {
    type: "boolean",
    default: false,
    description: "Also offer SMTP AUTH on port 25 (only after STARTTLS). Off: AUTH on 587/465 only (RFC 8314).",
  },
  headerPrivacy: {
    type: "boolean",
    default: true,
    description: "Remove the customer's client hop (Received ... with ESMTPSA) and headerPrivacyStrip headers from submitted mail (587, 465, sendmail); inbound mail keeps its trace.",
  },
  headerPrivacyStrip: {
    type: "array",
    default: DEFAULT_PRIVACY_STRIP,
    description: "Header names removed from submitted mail when headerPrivacy is on.",
  },
  relayHost: {
    type: "string",
    default: "",
    description: 'Smarthost for all outbound mail: "smtp.provider.example", "smtp.provider.example:587" or "[192.0.2.1]:587" (no MX lookup; TLS required toward it). Empty: deliver directly.',
  },
  relayHostUsername: { type: "string", default: "", description: "SASL login at the smarthost; empty: no AUTH toward it." },
  relayHostPassword: {
    type: "string",
    default: "",
    secretWhenSet: true,
    description: "SASL password at the smarthost; must be set with --secret (it is optional, so Pulumi.yaml cannot mark it secret: the CLI would then require it for every stack).",
  },
  blockedSenders: {
    type: "array",
    default: [],
    description: 'Envelope senders refused at RCPT on port 25, each "address-or-domain: reply text" (a domain covers its subdomains), e.g. a hacked mailing list.',
  },
  blockedClients: {
    type: "array",
    default: [],
    description: 'Client networks refused at RCPT on port 25, each "CIDR: reply text".',
  },
  blockReadReceipts: {
    type: "boolean",
    default: false,
    description: "Discard read receipts (MDNs) sent by users and strip Disposition-Notification-To/Return-Receipt-To from submitted mail; bounces (DSNs) always pass.",
  },
  rejectUnknownSenderDomain: {
    type: "boolean",
    default: true,
    description: "Refuse (4xx until DNS answers) mail on port 25 whose sender domain has no DNS record. Needs a working resolver on the host.",
  },
  authRateLimitPerMinute: {
    type: "integer",
    default: 30,
    description: "AUTH commands a client address may send per minute (smtpd_client_auth_rate_limit); 0: no limit.",
  },
  bounceQueueLifetimeDays: {
    type: "integer",
    default: 1,
    description: "Days an undeliverable bounce stays queued (bounce_queue_lifetime; Postfix's default is 5).",
  },
  queueCleanupTimer: {
    type: "boolean",
    default: false,
    description: "Run mailfleet-queue-cleanup daily (removes deferred MAILER-DAEMON bounces, nothing else). The command is always installed for on-demand use.",
  },
  postscreenDnsblSites: {
    type: "array",
    default: [],
    description: 'DNSBLs for postscreen on port 25, each with a result filter, e.g. "zen.spamhaus.org=127.0.0.[2..11]*3". Empty: postscreen off.',
  },
  postscreenDnsblThreshold: { type: "integer", default: 3, description: "postscreen_dnsbl_threshold: summed weight at which a client is refused." },
  tlsKeyBits: { type: "integer", default: 2048, description: "RSA key size of the self-signed certificate (2048, 3072 or 4096)." },
  tlsValidityDays: { type: "integer", default: 825, description: "Validity of the self-signed certificate in days (1 to 825)." },
  passwordHashRounds: {
    type: "integer",
    default: 100000,
    description: "SHA512-CRYPT rounds for new password hashes (5000 to 5000000); existing hashes are kept while they verify.",
  },
};

export interface HostConnection {
  address: string;
  port: number;
  user: string;
  /** Plaintext in memory only; wrapped with pulumi.secret() before it reaches any resource. */
  privateKey: string;
  hostKey: string;
}

export interface Mailbox {
  address: string;
  local: string;
  domain: string;
  /** Plaintext in memory only; wrapped with pulumi.secret() before it reaches any resource. */
  password: string;
}

export interface Alias {
  source: string;
  targets: string[];
}

export interface RelayHost {
  /** Host name or IP literal, without brackets. */
  host: string;
  port: number;
  /** Postfix next-hop form: `[host]:port` (brackets: no MX lookup). */
  nexthop: string;
  username: string;
  /** Plaintext in memory only; wrapped with pulumi.secret() before it reaches any resource. */
  password: string;
}

export type { AccessRule };

export interface MailConfig {
  stack: string;
  host: HostConnection;
  hostname: string;
  domains: string[];
  mailboxes: Mailbox[];
  aliases: Alias[];
  postmaster: string;
  trustedNetworks: Network[];
  tlsKeyBits: number;
  tlsValidityDays: number;
  passwordHashRounds: number;
  allowAuthOnPort25: boolean;
  headerPrivacy: boolean;
  headerPrivacyStrip: string[];
  relayHost?: RelayHost;
  blockedSenders: AccessRule[];
  blockedClients: AccessRule[];
  blockReadReceipts: boolean;
  rejectUnknownSenderDomain: boolean;
  authRateLimitPerMinute: number;
  bounceQueueLifetimeDays: number;
  queueCleanupTimer: boolean;
  postscreenDnsblSites: string[];
  postscreenDnsblThreshold: number;
}

/** Headers that carry the message itself; stripping one breaks mail (mailspec F-09: MIME-Version). */
const ESSENTIAL_HEADERS = ["from", "to", "cc", "date", "subject", "message-id", "mime-version", "content-type", "content-transfer-encoding", "received"];

export class ConfigError extends Error {
  constructor(
    readonly stack: string,
    readonly problems: string[],
  ) {
    super(`invalid stack config for "${stack}":\n${problems.map((p) => ` - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Quotes a user value for a message: JSON string syntax, shortened if long. */
function show(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  const cut = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return JSON.stringify(cut);
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

/**
 * Parses the mailboxPasswords secret: a YAML map of address to password. Every scalar is read as
 * a string (YAML's failsafe schema: "12345678901234567890" or "0x1f" stay as written), and a
 * password that YAML would cut at " #" (a comment) is refused instead of shortened. Returns the
 * entries, or a problem that quotes nothing from the secret.
 */
function parsePasswordMap(text: string): Map<string, { value: string; problem?: string }> | string {
  const out = new Map<string, { value: string; problem?: string }>();
  if (text.trim() === "") return out;
  const doc = YAML.parseDocument(text, { schema: "failsafe", uniqueKeys: true });
  if (doc.errors.length) {
    const codes = [...new Set(doc.errors.map((e) => e.code))];
    return codes.includes("DUPLICATE_KEY")
      ? "lists a mailbox twice; keep one password per mailbox"
      : `is not a YAML map of "address: password" lines (YAML error ${codes.join(", ")} at line ${doc.errors[0].linePos?.[0].line ?? "?"})`;
  }
  if (!YAML.isMap(doc.contents)) return 'is not a YAML map of "address: password" lines';
  for (const pair of doc.contents.items) {
    const key = YAML.isScalar(pair.key) ? String(pair.key.value) : "";
    if (!YAML.isScalar(pair.value)) {
      out.set(key, { value: "", problem: "is not a single password; quote it in the YAML map" });
      continue;
    }
    const value = String(pair.value.value);
    const [, valueEnd] = pair.value.range ?? [0, 0];
    const lineEnd = text.indexOf("\n", valueEnd);
    const rest = text.slice(valueEnd, lineEnd < 0 ? undefined : lineEnd);
    const problem = /#/.test(rest) ? 'contains " #", where YAML starts a comment and would cut the password; quote the password' : undefined;
    out.set(key, { value, problem });
  }
  return out;
}

/**
 * Reads the raw config (`{"mailfleet:key": "string value"}`, arrays as JSON text, exactly what
 * `pulumi.runtime.allConfig()` returns) and the set of keys stored as secrets.
 * Throws ConfigError listing every problem.
 */
export function readConfig(stack: string, raw: Record<string, string>, secretKeys: ReadonlySet<string>): MailConfig {
  const problems: string[] = [];
  const k = (key: string) => `${NAMESPACE}:${key}`;
  const bad = (key: string, message: string): void => {
    problems.push(`${key}: ${message}`);
  };

  for (const full of Object.keys(raw).sort()) {
    if (!full.startsWith(`${NAMESPACE}:`)) continue;
    const key = full.slice(NAMESPACE.length + 1);
    if (CONFIG_KEYS[key]) continue;
    const near = Object.keys(CONFIG_KEYS).filter((c) => levenshtein(c.toLowerCase(), key.toLowerCase()) <= 3);
    bad(full, `unknown config key${near.length ? `; did you mean ${near.map((n) => k(n)).join(" or ")}?` : ` (known keys: see Pulumi.yaml)`}`);
  }

  const present = (key: string) => raw[k(key)] !== undefined;
  const text = (key: string): string | undefined => {
    const spec = CONFIG_KEYS[key];
    if (!present(key)) {
      if (spec.default === undefined) {
        bad(k(key), `is required (${spec.description})`);
        return undefined;
      }
      return String(spec.default);
    }
    return raw[k(key)];
  };
  const secretText = (key: string, howToSet: string): string | undefined => {
    const value = text(key);
    if (value !== undefined && present(key) && !secretKeys.has(k(key))) {
      bad(k(key), `is stored in plain text; store it as a secret: ${howToSet}`);
      return undefined;
    }
    return value;
  };
  const integer = (key: string, min: number, max: number, allowed?: number[]): number => {
    const spec = CONFIG_KEYS[key];
    const value = text(key);
    const fallback = Number(spec.default ?? min);
    if (value === undefined) return fallback;
    if (!/^-?[0-9]+$/.test(value.trim())) {
      bad(k(key), `${show(value)} is not an integer`);
      return fallback;
    }
    const n = Number(value.trim());
    if (allowed && !allowed.includes(n)) {
      bad(k(key), `${n} is not allowed; use one of ${allowed.join(", ")}`);
      return fallback;
    }
    if (n < min || n > max) {
      bad(k(key), `${n} is out of range; use ${min} to ${max}`);
      return fallback;
    }
    return n;
  };
  // Keys whose value could not be read at all: checks that depend on them stay quiet.
  const broken = new Set<string>();
  const list = (key: string): string[] => {
    const value = text(key);
    if (value === undefined) return [];
    if (Array.isArray(CONFIG_KEYS[key].default) && !present(key)) return [...(CONFIG_KEYS[key].default as string[])];
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      broken.add(key);
      bad(k(key), `${show(value)} is not a list; set it as a YAML list in the stack file or with pulumi config set --path '${k(key)}[0]' VALUE`);
      return [];
    }
    if (!Array.isArray(parsed)) {
      broken.add(key);
      bad(k(key), `${show(value)} is not a list; set it as a YAML list in the stack file or with pulumi config set --path '${k(key)}[0]' VALUE`);
      return [];
    }
    const out: string[] = [];
    parsed.forEach((item, i) => {
      if (typeof item !== "string") bad(`${k(key)}[${i}]`, `${show(item)} is not a string`);
      else out.push(item);
    });
    return out;
  };

  // --- host connection ---
  const address = text("hostAddress") ?? "";
  if (present("hostAddress")) {
    const why = checkHostAddress(address);
    if (why) bad(k("hostAddress"), `${show(address)} ${why}`);
  }
  const port = integer("sshPort", 1, 65535);
  const user = text("sshUser") ?? "root";
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) bad(k("sshUser"), `${show(user)} is not a valid Unix user name`);
  const privateKey = secretText("sshPrivateKey", "pulumi config set --secret mailfleet:sshPrivateKey < ~/.ssh/id_ed25519") ?? "";
  if (privateKey && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey)) {
    bad(k("sshPrivateKey"), "is not a private key in OpenSSH or PEM format (expected a -----BEGIN ... PRIVATE KEY----- block)");
  }
  const hostKey = (text("sshHostKey") ?? "").trim();
  if (present("sshHostKey")) {
    const why = checkHostKey(hostKey);
    if (why) bad(k("sshHostKey"), `${show(hostKey)} ${why}`);
  }

  // --- identity and domains ---
  const hostname = text("hostname") ?? "";
  if (present("hostname")) {
    const why = checkDomain(hostname);
    if (why) bad(k("hostname"), `${show(hostname)} ${why}; the mail host needs a fully qualified name such as mail.example.net`);
  }
  const domains: string[] = [];
  const domainList = list("domains");
  if (present("domains") && domainList.length === 0 && !broken.has("domains")) bad(k("domains"), "is empty; list at least one hosted domain");
  domainList.forEach((d, i) => {
    const why = checkDomain(d);
    if (why) return bad(`${k("domains")}[${i}]`, `${show(d)} ${why}`);
    if (domains.includes(d)) return bad(`${k("domains")}[${i}]`, `${show(d)} is listed twice; remove the duplicate`);
    if (d === hostname) {
      return bad(`${k("domains")}[${i}]`, `${show(d)} is the host name; a hosted domain must differ from mailfleet:hostname (Postfix must not list a domain in both mydestination and virtual_mailbox_domains)`);
    }
    domains.push(d);
  });

  // --- mailboxes and passwords ---
  const mailboxes: Mailbox[] = [];
  const seen = new Map<string, number>();
  const mailboxList = list("mailboxes");
  // Everything the operator declared, valid or not, so one bad entry is reported once only.
  const declared = new Set(mailboxList);
  mailboxList.forEach((entry, i) => {
    const where = `${k("mailboxes")}[${i}]`;
    const parsed = parseAddress(entry);
    if (typeof parsed === "string") return bad(where, `${show(entry)} ${parsed}`);
    if (!domainList.includes(parsed.domain) && !broken.has("domains")) {
      return bad(where, `${show(entry)} is in domain ${show(parsed.domain)}, which is not in mailfleet:domains; add the domain or fix the address`);
    }
    if (seen.has(entry)) return bad(where, `${show(entry)} duplicates mailfleet:mailboxes[${seen.get(entry)}]; remove one`);
    seen.set(entry, i);
    mailboxes.push({ address: entry, local: parsed.local, domain: parsed.domain, password: "" });
  });
  const passwordsText = secretText(
    "mailboxPasswords",
    "pulumi config set --secret mailfleet:mailboxPasswords < passwords.yaml",
  );
  if (passwordsText !== undefined) {
    const passwords = parsePasswordMap(passwordsText);
    if (typeof passwords === "string") {
      // Never show the value or YAML's own message: both would quote the secret.
      bad(k("mailboxPasswords"), passwords);
    } else {
      for (const [addr, entry] of passwords) {
        const named = typeof parseAddress(addr) === "string" ? "an entry whose key is not an e-mail address (not shown)" : show(addr);
        const where = typeof parseAddress(addr) === "string" ? k("mailboxPasswords") : `${k("mailboxPasswords")}[${addr}]`;
        if (declared.has(addr) && !seen.has(addr)) continue;
        if (!seen.has(addr)) {
          bad(where, `has a password for ${named}, which is not in mailfleet:mailboxes; add the mailbox or remove the password`);
          continue;
        }
        if (entry.problem) {
          bad(where, entry.problem);
          continue;
        }
        const password = entry.value;
        if (password.length < 10) bad(where, "is shorter than 10 characters; use a longer password");
        else if (/[\u0000-\u001f\u007f]/.test(password)) bad(where, "contains a control character (tab, newline, ...); use printable characters only");
        else mailboxes.find((m) => m.address === addr)!.password = password;
      }
      for (const m of mailboxes) {
        if (!passwords.has(m.address)) {
          bad(k("mailboxPasswords"), `has no password for mailbox ${show(m.address)}; add "${m.address}: <password>" to the secret`);
        }
      }
    }
  }

  // --- aliases ---
  const aliases: Alias[] = [];
  const aliasIndex = new Map<string, number>();
  const hosted = (addr: string) => domains.includes(addr.slice(addr.lastIndexOf("@") + 1));
  list("aliases").forEach((entry, i) => {
    const where = `${k("aliases")}[${i}]`;
    const m = /^\s*([^:\s]+)\s*:\s*(.+?)\s*$/.exec(entry);
    if (!m) return bad(where, `${show(entry)} is not of the form "alias@domain: target[, target...]"`);
    const [, source, rest] = m;
    if (source.startsWith("@")) {
      return bad(where, `${show(source)} is a catch-all; catch-alls defeat recipient checks at RCPT time and create backscatter, list the addresses instead`);
    }
    const parsed = parseAddress(source);
    if (typeof parsed === "string") return bad(where, `alias ${show(source)} ${parsed}`);
    if (!domainList.includes(parsed.domain)) {
      if (broken.has("domains")) return;
      return bad(where, `alias ${show(source)} is not in a hosted domain (mailfleet:domains)`);
    }
    if (seen.has(source)) return bad(where, `alias ${show(source)} is also a mailbox; an alias would hide the mailbox, remove one of them`);
    if (aliasIndex.has(source)) return bad(where, `alias ${show(source)} duplicates mailfleet:aliases[${aliasIndex.get(source)}]; merge the targets into one entry`);
    const targets: string[] = [];
    for (const t of rest.split(",").map((s) => s.trim())) {
      // Hosted targets follow mailfleet's mailbox rules; external ones only RFC 5321's.
      const targetDomain = t.slice(t.lastIndexOf("@") + 1).toLowerCase();
      const why = domainList.includes(targetDomain) ? parseAddress(t) : checkExternalAddress(t);
      if (typeof why === "string") {
        bad(where, `target ${show(t)} ${why}`);
        continue;
      }
      if (targets.includes(t)) continue;
      targets.push(t);
    }
    aliasIndex.set(source, i);
    aliases.push({ source, targets });
  });
  for (const a of aliases) {
    const where = `${k("aliases")}[${aliasIndex.get(a.source)}]`;
    for (const t of a.targets) {
      // postmaster@ and abuse@ of every hosted domain exist even when not listed (generated aliases).
      const role = ROLE_ADDRESSES.includes(t.slice(0, t.lastIndexOf("@")));
      if (hosted(t) && !declared.has(t) && !aliasIndex.has(t) && !role) {
        bad(where, `target ${show(t)} is in a hosted domain but is neither a mailbox nor an alias; add it to mailfleet:mailboxes or fix the target`);
      }
    }
  }
  // An alias whose every expansion path returns to itself delivers nowhere.
  const reaches = (start: string): boolean => {
    const stack = [start];
    const visited = new Set<string>();
    while (stack.length) {
      const cur = stack.pop()!;
      if (visited.has(cur)) continue;
      visited.add(cur);
      const alias = aliases.find((x) => x.source === cur);
      if (!alias) return true;
      stack.push(...alias.targets);
    }
    return false;
  };
  for (const a of aliases) {
    // (an alias whose targets were all invalid has been reported already)
    if (a.targets.length && !reaches(a.source)) bad(`${k("aliases")}[${aliasIndex.get(a.source)}]`, `alias ${show(a.source)} only loops back to itself and delivers nowhere; point it at a mailbox`);
  }

  // --- postmaster ---
  let postmaster = text("postmaster") ?? "";
  if (postmaster === "") {
    if (mailboxes.length > 0) postmaster = mailboxes[0].address;
    else if (domainList.length > 0 && declared.size === 0) bad(k("postmaster"), "is not set and there is no mailbox to default to; set it to an address that is read (postmaster@ and abuse@ are required by RFC 5321/2142)");
  } else {
    const pp = parseAddress(postmaster);
    const mydomain = hostname.slice(hostname.indexOf(".") + 1);
    if (typeof pp === "string") bad(k("postmaster"), `${show(postmaster)} ${pp}`);
    else if ([hostname, "localhost", `localhost.${mydomain}`].includes(pp.domain)) {
      // /etc/aliases sends root and postmaster of the host's own names here: that would loop.
      bad(k("postmaster"), `${show(postmaster)} is an address of the mail host itself, where root's and postmaster's mail is forwarded to mailfleet:postmaster: a loop; use a mailbox in a hosted domain or an external address`);
    }
    else if (domains.includes(pp.domain) && !seen.has(postmaster) && !aliasIndex.has(postmaster)) {
      bad(k("postmaster"), `${show(postmaster)} is in a hosted domain but is neither a mailbox nor an alias`);
    }
  }

  // --- networks ---
  const trustedNetworks: Network[] = [];
  list("trustedNetworks").forEach((entry, i) => {
    const where = `${k("trustedNetworks")}[${i}]`;
    const net = parseNetwork(entry);
    if (typeof net === "string") return bad(where, `${show(entry)} ${net}`);
    if (net.prefix === 0) return bad(where, `${show(entry)} trusts every address on the Internet: that is an open relay; list only your own networks`);
    if (trustedNetworks.some((n) => n.postfix === net.postfix)) return bad(where, `${show(entry)} is listed twice`);
    trustedNetworks.push(net);
  });

  const boolean = (key: string): boolean => {
    const value = text(key);
    if (value === undefined) return Boolean(CONFIG_KEYS[key].default);
    if (value !== "true" && value !== "false") {
      bad(k(key), `${show(value)} is not a boolean; use true or false`);
      return Boolean(CONFIG_KEYS[key].default);
    }
    return value === "true";
  };

  // --- mail policy (mailspec F-05..F-09, F-14..F-17) ---
  const allowAuthOnPort25 = boolean("allowAuthOnPort25");
  const headerPrivacy = boolean("headerPrivacy");
  const headerPrivacyStrip: string[] = [];
  list("headerPrivacyStrip").forEach((name, i) => {
    const where = `${k("headerPrivacyStrip")}[${i}]`;
    const why = checkHeaderName(name);
    if (why) return bad(where, `${show(name)} ${why}`);
    if (ESSENTIAL_HEADERS.includes(name.toLowerCase())) {
      return bad(where, `${show(name)} carries the message itself and must not be stripped${name.toLowerCase() === "received" ? " (the client's own Received hop is removed by headerPrivacy)" : ""}`);
    }
    if (headerPrivacyStrip.some((h) => h.toLowerCase() === name.toLowerCase())) return bad(where, `${show(name)} is listed twice`);
    headerPrivacyStrip.push(name);
  });

  let relayHost: RelayHost | undefined;
  const relayText = (text("relayHost") ?? "").trim();
  const relayUser = text("relayHostUsername") ?? "";
  const relayPassword = text("relayHostPassword") ?? "";
  if (relayPassword !== "" && !secretKeys.has(k("relayHostPassword"))) {
    bad(k("relayHostPassword"), "is stored in plain text; store it as a secret: pulumi config set --secret mailfleet:relayHostPassword");
  }
  if (relayText !== "") {
    const m = /^(?:\[([^\]]+)\]|([^:\[\]]+))(?::([0-9]{1,5}))?$/.exec(relayText);
    const host = m ? (m[1] ?? m[2]) : "";
    const port = m && m[3] ? Number(m[3]) : 587;
    const hostProblem = !m ? "is not of the form host, host:port or [host]:port" : checkHostAddress(host);
    if (hostProblem) bad(k("relayHost"), `${show(relayText)} ${hostProblem}`);
    else if (port === 465) bad(k("relayHost"), `${show(relayText)} uses port 465 (implicit TLS), which mailfleet does not support yet; use the provider's submission port 587 (STARTTLS)`);
    else if (port < 1 || port > 65535) bad(k("relayHost"), `${show(relayText)} has an invalid port`);
    else relayHost = { host, port, nexthop: `[${host}]:${port}`, username: relayUser, password: relayPassword };
    if (relayUser !== "" && !/^[^\s:]+$/.test(relayUser)) bad(k("relayHostUsername"), `${show(relayUser)} may not contain white space or ":"`);
    if (relayUser !== "" && relayPassword === "") bad(k("relayHostPassword"), "is empty but mailfleet:relayHostUsername is set; set the password with pulumi config set --secret mailfleet:relayHostPassword");
    if (relayUser === "" && relayPassword !== "") bad(k("relayHostUsername"), "is empty but mailfleet:relayHostPassword is set; set the login name too");
    if (relayPassword !== "" && (relayPassword !== relayPassword.trim() || /[\u0000-\u001f\u007f]/.test(relayPassword))) {
      bad(k("relayHostPassword"), "has leading or trailing white space or a control character, which the SASL password map cannot carry");
    }
  } else if (relayUser !== "" || relayPassword !== "") {
    bad(k("relayHost"), "is empty but smarthost credentials are set; set the smarthost or remove mailfleet:relayHostUsername/relayHostPassword");
  }

  const accessRule = (key: string, entry: string, i: number, parseKey: (s: string) => string | { key: string }): AccessRule | undefined => {
    const where = `${k(key)}[${i}]`;
    const m = /^\s*(\S+?)\s*(?::\s*(.*?))?\s*$/.exec(entry);
    if (!m) return void bad(where, `${show(entry)} is not of the form "KEY: reply text"`);
    const parsedKey = parseKey(m[1]);
    if (typeof parsedKey === "string") return void bad(where, `${show(m[1])} ${parsedKey}`);
    const reply = m[2] ?? "";
    if (reply === "") return { key: parsedKey.key, action: "REJECT 5.7.1 Access denied by postmaster" };
    const why = checkReplyText(reply);
    if (why) return void bad(where, `reply text ${why}`);
    // "550 5.7.1 text" sets the code; otherwise REJECT gives access_map_reject_code (554).
    return { key: parsedKey.key, action: /^5[0-9][0-9] 5\.[0-9]{1,3}\.[0-9]{1,3} /.test(reply) ? reply : `REJECT 5.7.1 ${reply}` };
  };
  const blockedSenders: AccessRule[] = [];
  list("blockedSenders").forEach((entry, i) => {
    const rule = accessRule("blockedSenders", entry, i, (s) => {
      if (s.includes("@")) {
        const a = parseAddress(s);
        return typeof a === "string" ? a : { key: s };
      }
      return checkDomain(s) ?? { key: s };
    });
    if (!rule) return;
    if (domains.includes(rule.key)) return bad(`${k("blockedSenders")}[${i}]`, `${show(rule.key)} is a hosted domain; blocking it would refuse your own customers' mail`);
    if (blockedSenders.some((r) => r.key === rule.key)) return bad(`${k("blockedSenders")}[${i}]`, `${show(rule.key)} is listed twice`);
    blockedSenders.push(rule);
  });
  const blockedClients: AccessRule[] = [];
  list("blockedClients").forEach((entry, i) => {
    // IPv6 networks contain ":", so the reply text follows ": " (colon and space) here.
    const cut = entry.indexOf(": ");
    const net = parseNetwork((cut < 0 ? entry : entry.slice(0, cut)).trim());
    const where = `${k("blockedClients")}[${i}]`;
    if (typeof net === "string") return bad(where, `${show(entry)} ${net}`);
    const rule = accessRule("blockedClients", `x${cut < 0 ? "" : entry.slice(cut)}`, i, () => ({ key: net.cidr }));
    if (!rule) return;
    if (blockedClients.some((r) => r.key === rule.key)) return bad(where, `${show(net.cidr)} is listed twice`);
    blockedClients.push(rule);
  });

  const blockReadReceipts = boolean("blockReadReceipts");
  const rejectUnknownSenderDomain = boolean("rejectUnknownSenderDomain");
  const authRateLimitPerMinute = integer("authRateLimitPerMinute", 0, 100000);
  const bounceQueueLifetimeDays = integer("bounceQueueLifetimeDays", 0, 30);
  const queueCleanupTimer = boolean("queueCleanupTimer");
  const postscreenDnsblSites: string[] = [];
  list("postscreenDnsblSites").forEach((site, i) => {
    const where = `${k("postscreenDnsblSites")}[${i}]`;
    const m = /^([a-z0-9.-]+)(=[0-9.\[\];]+)?(\*-?[0-9]+)?$/.exec(site);
    if (!m || checkDomain(m[1])) return bad(where, `${show(site)} is not a DNSBL site of the form name=filter*weight`);
    // postscreen_dnsbl_sites(5): four octets, each a number, [a..b] or [a;b;...]; 0-255.
    const octet = "(?:[0-9]{1,3}|\\[[0-9]{1,3}(?:\\.\\.[0-9]{1,3})?(?:;[0-9]{1,3}(?:\\.\\.[0-9]{1,3})?)*\\])";
    const filterOk = m[2] !== undefined && new RegExp(`^=${octet}(?:\\.${octet}){3}$`).test(m[2]) && (m[2].match(/[0-9]+/g) ?? []).every((n) => Number(n) <= 255);
    if (m[2] && !filterOk) return bad(where, `${show(site)} has a malformed result filter; write four octets such as =127.0.0.[2..11]`);
    if (!m[2] || !m[2].startsWith("=127.")) {
      return bad(where, `${show(site)} has no result filter; a resolver refused by the list answers 127.255.255.254, which would reject all mail: add one such as ${m[1]}=127.0.0.[2..11]`);
    }
    postscreenDnsblSites.push(site);
  });
  const postscreenDnsblThreshold = integer("postscreenDnsblThreshold", 1, 100);

  const tlsKeyBits = integer("tlsKeyBits", 2048, 4096, [2048, 3072, 4096]);
  const tlsValidityDays = integer("tlsValidityDays", 1, 825);
  const passwordHashRounds = integer("passwordHashRounds", 5000, 5000000);

  if (problems.length) throw new ConfigError(stack, problems);
  return {
    stack,
    host: { address, port, user, privateKey, hostKey },
    hostname,
    domains,
    mailboxes,
    aliases,
    postmaster,
    trustedNetworks,
    tlsKeyBits,
    tlsValidityDays,
    passwordHashRounds,
    allowAuthOnPort25,
    headerPrivacy,
    headerPrivacyStrip,
    relayHost,
    blockedSenders,
    blockedClients,
    blockReadReceipts,
    rejectUnknownSenderDomain,
    authRateLimitPerMinute,
    bounceQueueLifetimeDays,
    queueCleanupTimer,
    postscreenDnsblSites,
    postscreenDnsblThreshold,
  };
}
