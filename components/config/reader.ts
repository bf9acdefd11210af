// The readers every config section uses: typed access to the raw config map with each key's
// default and range from the key table, one list of problems for the whole stack, and the
// did-you-mean hint for unknown keys. Nothing here knows what a key means.
import { CONFIG_KEYS, KeySpec, NAMESPACE } from "./keys";

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
export function show(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  const cut = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return JSON.stringify(cut);
}

/** The full name of a key as the operator types it: `mailfleet:domains`. */
export function k(key: string): string {
  return `${NAMESPACE}:${key}`;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

export class ConfigReader {
  readonly problems: string[] = [];
  /** Keys whose value could not be read at all: checks that depend on them stay quiet. */
  readonly broken = new Set<string>();

  constructor(
    readonly stack: string,
    private readonly raw: Readonly<Record<string, string>>,
    private readonly secretKeys: ReadonlySet<string>,
  ) {
    this.reportUnknownKeys();
  }

  /** Records one problem: `where` is the key (or `key[index]`) the operator typed. */
  bad(where: string, message: string): void {
    this.problems.push(`${where}: ${message}`);
  }

  present(key: string): boolean {
    return this.raw[k(key)] !== undefined;
  }

  private spec(key: string): KeySpec {
    const spec = CONFIG_KEYS[key];
    if (!spec) throw new Error(`config key ${key} is read but not declared in CONFIG_KEYS`);
    return spec;
  }

  /** The raw text, or the default; undefined (and a problem) when a required key is missing. */
  text(key: string): string | undefined {
    const spec = this.spec(key);
    if (!this.present(key)) {
      if (spec.default === undefined) {
        this.bad(k(key), `is required (${spec.description})`);
        return undefined;
      }
      return String(spec.default);
    }
    return this.raw[k(key)];
  }

  /** Like text, and refuses a value that is not stored as a secret (without showing it). */
  secretText(key: string, howToSet: string): string | undefined {
    const value = this.text(key);
    if (value !== undefined && this.present(key) && !this.isSecret(key)) {
      this.bad(k(key), `is stored in plain text; store it as a secret: ${howToSet}`);
      return undefined;
    }
    return value;
  }

  isSecret(key: string): boolean {
    return this.secretKeys.has(k(key));
  }

  integer(key: string): number {
    const spec = this.spec(key);
    const min = spec.min ?? Number.MIN_SAFE_INTEGER;
    const max = spec.max ?? Number.MAX_SAFE_INTEGER;
    const fallback = Number(spec.default ?? min);
    const value = this.text(key);
    if (value === undefined) return fallback;
    if (!/^-?[0-9]+$/.test(value.trim())) {
      this.bad(k(key), `${show(value)} is not an integer`);
      return fallback;
    }
    const n = Number(value.trim());
    if (spec.allowed && !spec.allowed.includes(n)) {
      this.bad(k(key), `${n} is not allowed; use one of ${spec.allowed.join(", ")}`);
      return fallback;
    }
    if (n < min || n > max) {
      this.bad(k(key), `${n} is out of range; use ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  /** A string that must be one of the key's `choices`. */
  choice<T extends string>(key: string): T {
    const choices = this.spec(key).choices;
    if (!choices) throw new Error(`config key ${key} has no choices`);
    const value = this.text(key) ?? String(this.spec(key).default ?? choices[0]);
    if (!choices.includes(value)) {
      this.broken.add(key);
      this.bad(k(key), `${show(value)} is not allowed; use one of ${choices.join(", ")}`);
      return (this.spec(key).default ?? choices[0]) as T;
    }
    return value as T;
  }

  boolean(key: string): boolean {
    const fallback = Boolean(this.spec(key).default);
    const value = this.text(key);
    if (value === undefined) return fallback;
    if (value !== "true" && value !== "false") {
      this.bad(k(key), `${show(value)} is not a boolean; use true or false`);
      return fallback;
    }
    return value === "true";
  }

  private readonly lists = new Map<string, string[]>();

  /** A list of strings (Pulumi hands arrays over as JSON text); read and reported once per key. */
  list(key: string): string[] {
    const cached = this.lists.get(key);
    if (cached) return cached;
    const out = this.readList(key);
    this.lists.set(key, out);
    return out;
  }

  private readList(key: string): string[] {
    const spec = this.spec(key);
    const value = this.text(key);
    if (value === undefined) return [];
    if (Array.isArray(spec.default) && !this.present(key)) return [...spec.default];
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed)) {
      this.broken.add(key);
      this.bad(k(key), `${show(value)} is not a list; set it as a YAML list in the stack file or with pulumi config set --path '${k(key)}[0]' VALUE`);
      return [];
    }
    const out: string[] = [];
    parsed.forEach((item, i) => {
      if (typeof item !== "string") this.bad(`${k(key)}[${i}]`, `${show(item)} is not a string`);
      else out.push(item);
    });
    return out;
  }

  /** Calls `each` for every entry of a list key with the entry's `key[i]` name. */
  forEach(key: string, each: (entry: string, where: string, index: number) => void): void {
    this.list(key).forEach((entry, i) => each(entry, `${k(key)}[${i}]`, i));
  }

  private reportUnknownKeys(): void {
    for (const full of Object.keys(this.raw).sort()) {
      if (!full.startsWith(`${NAMESPACE}:`)) continue;
      const key = full.slice(NAMESPACE.length + 1);
      if (CONFIG_KEYS[key]) continue;
      const near = Object.keys(CONFIG_KEYS).filter((c) => levenshtein(c.toLowerCase(), key.toLowerCase()) <= 3);
      this.bad(full, `unknown config key${near.length ? `; did you mean ${near.map((n) => k(n)).join(" or ")}?` : " (known keys: see Pulumi.yaml)"}`);
    }
  }
}
