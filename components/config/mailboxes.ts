// Section: mailboxes, their passwords (one secret YAML map) and the hashing cost.
import { MailIdentity } from "./identity";
import { parsePasswordMap } from "./passwords";
import { ConfigReader, k, show } from "./reader";
import { parseAddress } from "./syntax";

/**
 * Passwords stay under 512 bytes: longer ones were found accepted here but unusable for login,
 * and 512 octets is the SMTP command line that many clients still size AUTH for (RFC 5321
 * 4.5.3.1.4; RFC 4954 allows longer AUTH lines, not every client does).
 */
const MAX_PASSWORD_BYTES = 512;

export interface Mailbox {
  address: string;
  local: string;
  domain: string;
  /** Plaintext in memory only; wrapped with pulumi.secret() before it reaches any resource. */
  password: string;
}

export interface Mailboxes {
  mailboxes: Mailbox[];
  /** Every address listed, valid or not, so that one bad entry is reported once only. */
  listed: ReadonlySet<string>;
  /** SHA512-CRYPT rounds for new password hashes. */
  passwordHashRounds: number;
  /** Delete a removed mailbox's Maildir instead of archiving it. */
  purgeRemovedMailboxes: boolean;
}

export function readMailboxes(r: ConfigReader, identity: MailIdentity): Mailboxes {
  const mailboxes: Mailbox[] = [];
  const index = new Map<string, number>();
  const listed = new Set(r.list("mailboxes"));
  r.forEach("mailboxes", (entry, where, i) => {
    const parsed = parseAddress(entry);
    if (typeof parsed === "string") return r.bad(where, `${show(entry)} ${parsed}`);
    if (!identity.listedDomains.includes(parsed.domain) && !identity.domainsBroken) {
      return r.bad(where, `${show(entry)} is in domain ${show(parsed.domain)}, which is not in mailfleet:domains; add the domain or fix the address`);
    }
    if (index.has(entry)) return r.bad(where, `${show(entry)} duplicates mailfleet:mailboxes[${index.get(entry)}]; remove one`);
    index.set(entry, i);
    mailboxes.push({ address: entry, local: parsed.local, domain: parsed.domain, password: "" });
  });
  readPasswords(r, mailboxes, listed);
  return { mailboxes, listed, passwordHashRounds: r.integer("passwordHashRounds"), purgeRemovedMailboxes: r.boolean("purgeRemovedMailboxes") };
}

/** Fills in each mailbox's password from the secret map; never quotes a password. */
function readPasswords(r: ConfigReader, mailboxes: Mailbox[], listed: ReadonlySet<string>): void {
  const text = r.secretText("mailboxPasswords", "pulumi config set --secret mailfleet:mailboxPasswords < passwords.yaml");
  if (text === undefined) return;
  const passwords = parsePasswordMap(text);
  if (typeof passwords === "string") {
    // Never show the value or YAML's own message: both would quote the secret.
    return r.bad(k("mailboxPasswords"), passwords);
  }
  const byAddress = new Map(mailboxes.map((m) => [m.address, m]));
  for (const [addr, entry] of passwords) {
    const isAddress = typeof parseAddress(addr) !== "string";
    const where = isAddress ? `${k("mailboxPasswords")}[${addr}]` : k("mailboxPasswords");
    const mailbox = byAddress.get(addr);
    if (listed.has(addr) && !mailbox) continue;
    if (!mailbox) {
      const named = isAddress ? show(addr) : "an entry whose key is not an e-mail address (not shown)";
      r.bad(where, `has a password for ${named}, which is not in mailfleet:mailboxes; add the mailbox or remove the password`);
    } else if (entry.problem) {
      r.bad(where, entry.problem);
    } else if (entry.value.length < 10) {
      r.bad(where, "is shorter than 10 characters; use a longer password");
    } else if (Buffer.byteLength(entry.value, "utf8") >= MAX_PASSWORD_BYTES) {
      r.bad(where, `is ${Buffer.byteLength(entry.value, "utf8")} bytes long; use fewer than ${MAX_PASSWORD_BYTES} bytes`);
    } else if (/[\u0000-\u001f\u007f]/.test(entry.value)) {
      r.bad(where, "contains a control character (tab, newline, ...); use printable characters only");
    } else {
      mailbox.password = entry.value;
    }
  }
  for (const m of mailboxes) {
    if (!passwords.has(m.address)) r.bad(k("mailboxPasswords"), `has no password for mailbox ${show(m.address)}; add "${m.address}: <password>" to the secret`);
  }
}
