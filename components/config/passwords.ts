// The mailboxPasswords secret: a YAML map of address to password, read so that YAML never
// changes a password silently and no message ever quotes one.
import * as YAML from "yaml";

export type PasswordEntry = { value: string; problem?: string };

/**
 * Parses the mailboxPasswords secret: a YAML map of address to password. Every scalar is read as
 * a string (YAML's failsafe schema: "12345678901234567890" or "0x1f" stay as written), and a
 * password that YAML would cut at " #" (a comment) is refused instead of shortened. Returns the
 * entries, or a problem that quotes nothing from the secret.
 */
export function parsePasswordMap(text: string): Map<string, PasswordEntry> | string {
  const out = new Map<string, PasswordEntry>();
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
