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
  // Duplicate keys are found below with a Set: the yaml library's own uniqueKeys check compares
  // every key with every other (quadratic: 4.6 s of a 6 s read at 20,000 mailboxes).
  const doc = YAML.parseDocument(text, { schema: "failsafe", uniqueKeys: false });
  if (doc.errors.length) {
    const codes = [...new Set(doc.errors.map((e) => e.code))];
    return `is not a YAML map of "address: password" lines (YAML error ${codes.join(", ")} at line ${doc.errors[0].linePos?.[0].line ?? "?"})`;
  }
  if (!YAML.isMap(doc.contents)) return 'is not a YAML map of "address: password" lines';
  for (const pair of doc.contents.items) {
    const key = YAML.isScalar(pair.key) ? String(pair.key.value) : "";
    if (out.has(key)) return "lists a mailbox twice; keep one password per mailbox";
    if (YAML.isAlias(pair.value)) {
      out.set(key, { value: "", problem: "refers to another entry with a YAML alias (*name); write each password out in quotes" });
      continue;
    }
    if (!YAML.isScalar(pair.value)) {
      out.set(key, { value: "", problem: "is not a single password; quote it in the YAML map" });
      continue;
    }
    out.set(key, { value: String(pair.value.value), problem: scalarProblem(text, pair.value) });
  }
  return out;
}

/**
 * YAML features that silently change what a password is: an anchor or tag is read as syntax, a
 * block scalar (| or >) adds or folds line breaks, a plain or quoted value continued on the next
 * line has that line break folded into a space, and " #" starts a comment that cuts the value.
 */
function scalarProblem(text: string, node: YAML.Scalar): string | undefined {
  if (node.anchor) return "carries a YAML anchor (&name), which is not part of the password; quote the password";
  if (node.tag) return "carries a YAML tag (!...), which changes how the password is read; quote the password without a tag";
  if (node.type === YAML.Scalar.BLOCK_FOLDED || node.type === YAML.Scalar.BLOCK_LITERAL) {
    return "is a YAML block scalar (| or >), which adds or folds line breaks; write the password on one line in quotes";
  }
  const [start, valueEnd] = node.range ?? [0, 0];
  if (text.slice(start, valueEnd).includes("\n")) {
    return "continues on the next line, where YAML folds the line break into a space; write the password on one line in quotes";
  }
  const lineEnd = text.indexOf("\n", valueEnd);
  const rest = text.slice(valueEnd, lineEnd < 0 ? undefined : lineEnd);
  if (/#/.test(rest)) return 'contains " #", where YAML starts a comment and would cut the password; quote the password';
  return undefined;
}
