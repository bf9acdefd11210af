// The secrets of one run, split into the pieces a step could print on its own, for masking what
// the double reports and for finding steps that expose a secret.
import { isSecret, unwrapSecret } from "./engine-state";

/** Shorter whole secrets are not matched: "true" or "22" inside a secret object is no secret. */
const MIN_WHOLE = 4;
/** One line of a multi-line secret (a PEM key body line is 64 characters). */
const MIN_LINE = 16;
/** The value of a "name<TAB>value" or "name: value" line (one password of a bundle). */
const MIN_VALUE = 8;
/** Masking may hide more than the leak check flags: any line of a secret from this length. */
const MIN_MASKED_LINE = 8;

const PEM_ARMOR = /^-----(BEGIN|END) [A-Z0-9 ]+-----$/;

/**
 * The pieces of one secret that count as the secret when they appear alone: the whole value,
 * each line of a multi-line value (PEM armor lines excepted: they are public), and the value
 * part of each "name<TAB>value" / "name: value" line (an address with its password).
 */
export function secretComponents(secret: string): string[] {
  const out = new Set<string>();
  if (secret.length >= MIN_WHOLE) out.add(secret);
  // A certificate inside a secret (the TLS bundle carries key and certificate) is public: its
  // lines are no secret, and the certificate is rightly an output in plain text.
  let inCertificate = false;
  const lines = secret.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).filter((l) => {
    if (/^-----BEGIN CERTIFICATE-----$/.test(l)) inCertificate = true;
    const keep = !inCertificate;
    if (/^-----END CERTIFICATE-----$/.test(l)) inCertificate = false;
    return keep;
  });
  for (const line of lines) {
    if (lines.length > 1 && line.length >= MIN_LINE && !PEM_ARMOR.test(line)) out.add(line);
    const value = kvValue(line);
    if (value) out.add(value);
  }
  return [...out];
}

/** The value part of a "name<TAB>value" / "name: value" line, if long enough to count. */
function kvValue(line: string): string | undefined {
  const kv = /^[^\s:]+(?:\t+|:\s+)(.+)$/.exec(line);
  const value = kv?.[1].trim().replace(/^(["'])(.*)\1$/, "$2");
  return value && value.length >= MIN_VALUE ? value : undefined;
}

export class SecretSet {
  private readonly values = new Set<string>();
  private publicLines = new Set<string>();
  private cache?: { components: PieceIndex; masked: PieceIndex };

  /**
   * Lines that stand in plain-text inputs are public: a managed-file header or a comment that a
   * secret bundle shares with every other bundle is no secret. Whole secrets and passwords (the
   * value of a "name: value" line) always stay secret.
   */
  setPublicLines(lines: Iterable<string>): void {
    this.publicLines = new Set([...lines].map((l) => l.trim()).filter(Boolean));
    this.cache = undefined;
  }

  add(value: string): void {
    if (value.length >= MIN_WHOLE && !this.values.has(value)) {
      this.values.add(value);
      this.cache = undefined;
    }
  }

  /**
   * Every string inside a secret of `value`. For a command's `connection` (one secret as a whole)
   * only the key material counts: the host, user and host key are not secrets in themselves.
   */
  addFrom(value: unknown, inSecret = false, key = ""): void {
    if (isSecret(value)) return this.addFrom(unwrapSecret(value), true, key);
    if (typeof value === "string") {
      if (inSecret) this.add(value);
      return;
    }
    if (Array.isArray(value)) return value.forEach((v) => this.addFrom(v, inSecret, key));
    if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) {
        if (key === "connection" && ["host", "user", "hostKey", "port"].includes(k)) continue;
        this.addFrom(v, inSecret, key === "" ? k : key);
      }
    }
  }

  private pieces() {
    if (!this.cache) {
      const alwaysSecret = new Set([...this.values, ...[...this.values].flatMap((v) => v.split(/\r?\n/).map((l) => kvValue(l.trim())).filter((x): x is string => !!x))]);
      const components = [...new Set([...this.values].flatMap(secretComponents))]
        .filter((c) => alwaysSecret.has(c) || !this.publicLines.has(c))
        .sort((a, b) => b.length - a.length);
      const lines = [...this.values].flatMap((s) => s.split(/\r?\n/)).map((l) => l.trim()).filter((l) => l.length >= MIN_MASKED_LINE);
      const masked = [...new Set([...components, ...lines])].sort((a, b) => b.length - a.length);
      this.cache = { components: new PieceIndex(components), masked: new PieceIndex(masked) };
    }
    return this.cache;
  }

  /** The secret components `text` contains (none: the text exposes no secret). */
  foundIn(text: string): string[] {
    return this.pieces().components.within(text);
  }

  mask(text: string): string {
    let out = text;
    // Longest first, as within() returns them: a line of a secret is masked as part of the whole.
    for (const piece of this.pieces().masked.within(text)) out = out.split(piece).join("[secret]");
    return out;
  }
}

/**
 * Which of many pieces (all at least MIN_WHOLE long) occur in a text, in one pass over the text:
 * a run holds a secret per mailbox, and testing each against every file of a 10,000-mailbox host
 * would make the double, not the product, the slow part of a run.
 */
class PieceIndex {
  private readonly starts = new Set<string>();
  private readonly byLength = new Map<number, Set<string>>();
  private readonly lengths: number[];

  constructor(pieces: string[]) {
    for (const p of pieces) {
      this.starts.add(p.slice(0, MIN_WHOLE));
      if (!this.byLength.has(p.length)) this.byLength.set(p.length, new Set());
      this.byLength.get(p.length)!.add(p);
    }
    this.lengths = [...this.byLength.keys()].sort((a, b) => b - a);
  }

  /** The pieces found in `text`, longest first. */
  within(text: string): string[] {
    const found = new Set<string>();
    for (let i = 0; i + MIN_WHOLE <= text.length; i++) {
      if (!this.starts.has(text.slice(i, i + MIN_WHOLE))) continue;
      for (const n of this.lengths) {
        if (i + n > text.length) continue;
        const candidate = text.slice(i, i + n);
        if (this.byLength.get(n)!.has(candidate)) found.add(candidate);
      }
    }
    return [...found].sort((a, b) => b.length - a.length);
  }
}
