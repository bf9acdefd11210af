// Pure syntax checks shared by the stack-config reader. Each returns a reason string when the
// value is bad (worded to follow `"value" ...`), or undefined when it is fine.

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A DNS name such as `example.com` (RFC 1035 labels, at least two of them, no trailing dot). */
export function checkDomain(value: string): string | undefined {
  if (value !== value.trim() || /\s/.test(value)) return "contains white space";
  if (value.endsWith(".")) return "ends with a dot; write the name without the trailing dot";
  if (value.length > 253) return "is longer than 253 characters";
  if (value !== value.toLowerCase()) return "has upper-case letters; write domain names in lower case";
  const labels = value.split(".");
  if (labels.length < 2) return "is not a fully qualified domain name (it needs at least two labels, e.g. example.com)";
  for (const label of labels) {
    if (!LABEL.test(label)) return `is not a valid domain name (label "${label}" may use only a-z, 0-9 and inner hyphens)`;
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return "is not a valid domain name (the last label is numeric)";
  return undefined;
}

/**
 * A local part we accept for mailboxes and aliases: lower-case letters, digits, and inner `.`, `_`
 * and `-`. `+` is reserved for Postfix's `recipient_delimiter` (plus-addressing, postconf(5)), and
 * `:` would break Dovecot's passwd-file format.
 */
const LOCAL_PART = /^[a-z0-9](?:[a-z0-9_-]|\.(?!\.))*(?<![.])$/;

export interface AddressParts {
  local: string;
  domain: string;
}

/** `local@domain` with a valid domain; returns the parts or a reason. */
export function parseAddress(value: string): AddressParts | string {
  if (value !== value.toLowerCase()) return "has upper-case letters; write addresses in lower case";
  const at = value.lastIndexOf("@");
  if (at <= 0 || at === value.length - 1) return "is not an e-mail address of the form local@domain";
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > 64) return "has a local part longer than 64 characters";
  if (local.includes("+")) return 'uses "+" in the local part, which is reserved for plus-addressing (user+tag@domain reaches user@domain)';
  if (!LOCAL_PART.test(local)) {
    return `has an invalid local part "${local}" (allowed: a-z, 0-9 and inner ".", "_", "-")`;
  }
  const domainProblem = checkDomain(domain);
  if (domainProblem) return `has a domain that ${domainProblem}`;
  return { local, domain };
}

/**
 * An address outside the hosted domains (a forwarding target): RFC 5321 dot-atom local part,
 * any case and `+` allowed; never `,`, `:`, `"` or white space (they would break the Postfix map).
 */
export function checkExternalAddress(value: string): string | undefined {
  const at = value.lastIndexOf("@");
  if (at <= 0 || at === value.length - 1) return "is not an e-mail address of the form local@domain";
  const local = value.slice(0, at);
  if (!/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/.test(local)) return `has an invalid local part "${local}"`;
  const why = checkDomain(value.slice(at + 1).toLowerCase());
  return why ? `has a domain that ${why}` : undefined;
}

function parseIPv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    bytes.push(n);
  }
  return bytes;
}

/** Parses an IPv6 address into 16 bytes, or undefined. Accepts `::` and an embedded IPv4 tail. */
function parseIPv6(text: string): number[] | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    const items = s.split(":");
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (i === items.length - 1 && item.includes(".")) {
        const v4 = parseIPv4(item);
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return undefined;
        out.push(parseInt(item, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  let all: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    all = head;
  }
  if (all.length !== 8) return undefined;
  return all.flatMap((g) => [g >> 8, g & 0xff]);
}

export function isIPv4(text: string): boolean {
  return parseIPv4(text) !== undefined;
}

export function isIPv6(text: string): boolean {
  return parseIPv6(text) !== undefined;
}

/** A host to reach over SSH: an IPv4 or IPv6 literal, or a DNS name (one label allowed). */
export function checkHostAddress(value: string): string | undefined {
  if (isIPv4(value) || isIPv6(value)) return undefined;
  if (/^[0-9.]+$/.test(value)) return "is not a valid IPv4 address";
  const labels = value.split(".");
  if (value.length > 0 && value.length <= 253 && labels.every((l) => LABEL.test(l.toLowerCase()))) return undefined;
  return "is neither an IP address nor a host name";
}

export interface Network {
  family: 4 | 6;
  /** As Postfix wants it in mynetworks: `192.0.2.0/24` or `[2001:db8::]/64`. */
  postfix: string;
  /** As cidr_table(5) wants it: no brackets. */
  cidr: string;
  prefix: number;
  /** The network address, 4 or 16 bytes. */
  bytes: number[];
}

/** Whether two networks of one family share an address: their common prefix bits are equal. */
export function overlaps(a: { bytes: number[]; prefix: number }, b: { bytes: number[]; prefix: number }): boolean {
  if (a.bytes.length !== b.bytes.length) return false;
  const bits = Math.min(a.prefix, b.prefix);
  for (let bit = 0; bit < bits; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((a.bytes[bit >> 3] & mask) !== (b.bytes[bit >> 3] & mask)) return false;
  }
  return true;
}

/** An address as a one-host network (/32 or /128), or undefined if it is not an IP literal. */
export function hostNetwork(address: string): { bytes: number[]; prefix: number } | undefined {
  const v4 = parseIPv4(address);
  if (v4) return { bytes: v4, prefix: 32 };
  const v6 = parseIPv6(address);
  return v6 ? { bytes: v6, prefix: 128 } : undefined;
}

/**
 * A network in CIDR notation with the host bits zero (Postfix warns about, and ignores, the host
 * bits otherwise; cidr_table(5)). IPv6 may be written with or without Postfix's brackets.
 */
export function parseNetwork(value: string): Network | string {
  const m = /^\[?([0-9a-fA-F:.]+)\]?\/([0-9]{1,3})$/.exec(value);
  if (!m) return "is not a network in CIDR notation (e.g. 192.0.2.0/24 or 2001:db8::/64)";
  const [, addr, prefixText] = m;
  const prefix = Number(prefixText);
  const v4 = parseIPv4(addr);
  const bytes = v4 ?? parseIPv6(addr);
  if (!bytes) return `has an invalid address "${addr}"`;
  const bits = v4 ? 32 : 128;
  if (prefix > bits) return `has a prefix length /${prefix} larger than ${bits}`;
  for (let bit = prefix; bit < bits; bit++) {
    if (bytes[bit >> 3] & (0x80 >> (bit & 7))) {
      const net = bytes.slice();
      for (let b = prefix; b < bits; b++) net[b >> 3] &= ~(0x80 >> (b & 7));
      const fixed = v4 ? net.join(".") : formatIPv6(net);
      return `has host bits set; the network is ${fixed}/${prefix}`;
    }
  }
  if (v4) return { family: 4, postfix: `${bytes.join(".")}/${prefix}`, cidr: `${bytes.join(".")}/${prefix}`, prefix, bytes };
  return { family: 6, postfix: `[${formatIPv6(bytes)}]/${prefix}`, cidr: `${formatIPv6(bytes)}/${prefix}`, prefix, bytes };
}

/** An IP literal in one spelling (IPv6 in RFC 5952 form); anything else unchanged. */
export function canonicalAddress(value: string): string {
  const v6 = parseIPv6(value);
  return v6 && !parseIPv4(value) ? formatIPv6(v6) : value;
}

/** Not a private, loopback, link-local, CGNAT or ULA address (those sit behind a NAT). */
export function isPublicAddress(address: string): boolean {
  if (isIPv4(address)) return !/^(10\.|127\.|169\.254\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.)/.test(address);
  return isIPv6(address) && !/^(f[cd]|fe[89ab]|::1$|::ffff:)/i.test(address);
}

/** RFC 5952 text form (lower case, longest zero run as `::`). */
function formatIPv6(bytes: number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

const HOST_KEY = /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa) [A-Za-z0-9+/]+={0,2}$/;

/**
 * A pinned SSH host key as in known_hosts, without host names or comment. Not "ssh-rsa":
 * @pulumi/command offers only the pinned key's own type as host key algorithm, and for RSA that
 * is the SHA-1 signature OpenSSH servers refuse since 8.8 (Debian 12 ships 9.2).
 */
export function checkHostKey(value: string): string | undefined {
  if (HOST_KEY.test(value)) {
    if (value.startsWith("ssh-rsa ")) {
      return "is an RSA host key, which @pulumi/command can only verify with SHA-1 signatures that Debian 12's sshd refuses; pin the host's Ed25519 or ECDSA key instead (ssh-keyscan -t ed25519 HOST)";
    }
    return undefined;
  }
  const parts = value.trim().split(/\s+/);
  if (parts.length >= 2 && HOST_KEY.test(`${parts[0]} ${parts[1]}`)) {
    return `has extra fields; use only "${parts[0]} ${parts[1].slice(0, 12)}..." (key type and base64 key, no comment)`;
  }
  if (parts.length >= 3 && HOST_KEY.test(`${parts[1]} ${parts[2]}`)) {
    return "looks like a known_hosts line; drop the host name field and keep \"<type> <base64>\"";
  }
  return 'is not an SSH public host key of the form "ssh-ed25519 AAAA..." (see ssh-keyscan -t ed25519 HOST)';
}

/** An SMTP reply text for access maps: printable, one line, short enough for a 512-byte reply. */
export function checkReplyText(text: string): string | undefined {
  if (text.length === 0) return "is empty";
  if (text.length > 200) return "is longer than 200 characters";
  if (!/^[\x20-\x7e]+$/.test(text)) return "must be printable ASCII on one line";
  return undefined;
}

/** A header field name (RFC 5322 ftext). */
export function checkHeaderName(name: string): string | undefined {
  if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) return "is not a header field name";
  return undefined;
}
