// One Postfix lookup table (hash:, cidr:, regexp: source text) and how it is written.

/** One Postfix lookup table (hash:, cidr:, regexp: source text): key and value per line. */
export interface LookupTable {
  entries: Array<[key: string, value: string]>;
}

/** Renders a table's entries, keys aligned; Postfix maps allow no trailing comments
 * (docs/postfix.md#lookup-tables). */
export function renderTableEntries(table: LookupTable): string {
  if (table.entries.length === 0) return "";
  const width = Math.max(...table.entries.map(([key]) => key.length)) + 2;
  return table.entries.map(([key, value]) => `${key.padEnd(width)}${value}\n`).join("");
}
