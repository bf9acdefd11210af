// Pure: mail settings -> the text of every Postfix file mailfleet manages.
import { HostFile, LookupTable, managedHeader, renderTableEntries, renderTemplate } from "./render";

export interface PostfixSettings {
  stack: string;
  hostname: string;
  domains: string[];
  /** Mailbox addresses, lower case. */
  mailboxes: string[];
  aliases: Array<{ source: string; targets: string[] }>;
  /** Receives postmaster@ and abuse@ of every hosted domain that has no explicit alias, and root. */
  postmaster: string;
  /** Extra trusted networks in Postfix syntax (`192.0.2.0/24`, `[2001:db8::]/64`). */
  trustedNetworks: string[];
  tlsKeyFile: string;
  tlsCertFile: string;
  /**
   * Offer SMTP AUTH on port 25 too (always only after STARTTLS: smtpd_tls_auth_only = yes).
   * @default false — AUTH on 587/465 only (RFC 8314 practice).
   */
  allowAuthOnPort25?: boolean;
}

/** Loopback, always first; then the operator's networks (mailspec F-02: never drop loopback). */
export const LOOPBACK_NETWORKS = ["127.0.0.0/8", "[::ffff:127.0.0.0]/104", "[::1]/128"];

/** RFC 5321 §4.5.1 and RFC 2142: these must reach a person in every hosted domain. */
export const ROLE_ADDRESSES = ["postmaster", "abuse"];

export function virtualAliasTable(s: PostfixSettings): LookupTable {
  const explicit = new Set(s.aliases.map((a) => a.source));
  const entries: Array<[string, string]> = [];
  for (const domain of s.domains) {
    for (const role of ROLE_ADDRESSES) {
      const address = `${role}@${domain}`;
      if (!explicit.has(address)) entries.push([address, s.postmaster]);
    }
  }
  for (const a of s.aliases) entries.push([a.source, a.targets.join(",")]);
  return { entries };
}

/**
 * smtpd_sender_login_maps: which SASL login may use which envelope sender. A mailbox owns its
 * address; an alias is owned by the hosted mailboxes it delivers to (directly or via aliases).
 */
export function senderLoginTable(s: PostfixSettings): LookupTable {
  const mailboxes = new Set(s.mailboxes);
  const byAlias = new Map(s.aliases.map((a) => [a.source, a.targets]));
  const owners = (address: string): string[] => {
    const out = new Set<string>();
    const seen = new Set<string>();
    const walk = (a: string) => {
      if (seen.has(a)) return;
      seen.add(a);
      if (mailboxes.has(a)) out.add(a);
      for (const t of byAlias.get(a) ?? []) walk(t);
    };
    walk(address);
    return [...out].sort();
  };
  const entries: Array<[string, string]> = s.mailboxes.map((m) => [m, m]);
  const roles = virtualAliasTable(s).entries.filter(([src]) => !byAlias.has(src));
  for (const [source, target] of roles) {
    const o = owners(target);
    if (o.length) entries.push([source, o.join(",")]);
  }
  for (const a of s.aliases) {
    const o = owners(a.source);
    if (o.length) entries.push([a.source, o.join(",")]);
  }
  return { entries };
}

function table(stack: string, file: string, comment: string, t: LookupTable, kind: "postmap"): HostFile {
  const content = renderTemplate(`etc/postfix/${file}`, {
    header: managedHeader(stack),
    comment: comment.split("\n").map((l) => `# ${l}`).join("\n"),
    entries: renderTableEntries(t),
  });
  return { path: `/etc/postfix/${file}`, owner: "root", group: "root", mode: "0644", kind, content };
}

export function relayRestrictions(): string[] {
  return ["permit_mynetworks", "permit_sasl_authenticated", "reject_unauth_destination"];
}

export function mainCf(s: PostfixSettings): string {
  const mydomain = s.hostname.slice(s.hostname.indexOf(".") + 1);
  return renderTemplate("etc/postfix/main.cf", {
    header: managedHeader(s.stack),
    hostname: s.hostname,
    mydomain,
    mynetworks: [...LOOPBACK_NETWORKS, ...s.trustedNetworks].join(" "),
    tlsKeyFile: s.tlsKeyFile,
    tlsCertFile: s.tlsCertFile,
    saslOnPort25: s.allowAuthOnPort25 ? "yes" : "no",
    relayRestrictions: relayRestrictions().join(", "),
    recipientRestrictions: ["reject_non_fqdn_recipient", "reject_unknown_recipient_domain"].join(", "),
    muaSenderRestrictions: ["reject_non_fqdn_sender", "reject_sender_login_mismatch", "permit_sasl_authenticated", "reject"].join(", "),
  });
}

/** Every Postfix file, in install order (maps before the main.cf that names them). */
export function postfixFiles(s: PostfixSettings): HostFile[] {
  const header = managedHeader(s.stack);
  return [
    {
      path: "/etc/mailname",
      owner: "root",
      group: "root",
      mode: "0644",
      kind: "plain",
      // myorigin = /etc/mailname: the file holds the name only, as Debian's tools expect.
      content: renderTemplate("etc/mailname", { hostname: s.hostname }),
    },
    {
      path: "/etc/aliases",
      owner: "root",
      group: "root",
      mode: "0644",
      kind: "postalias",
      content: renderTemplate("etc/aliases", { header, rootTarget: s.postmaster }),
    },
    table(s.stack, "vmail_domains", "Hosted domains (virtual_mailbox_domains).", {
      entries: s.domains.map((d) => [d, "OK"]),
    }, "postmap"),
    table(s.stack, "vmail_mailboxes", "Mailboxes (virtual_mailbox_maps); Dovecot LMTP delivers, the value is unused.", {
      entries: s.mailboxes.map((m) => [m, "OK"]),
    }, "postmap"),
    table(s.stack, "virtual", "Aliases (virtual_alias_maps), with postmaster@ and abuse@ for every hosted domain.", virtualAliasTable(s), "postmap"),
    table(s.stack, "sender_login", "Which login may send as which address (smtpd_sender_login_maps).", senderLoginTable(s), "postmap"),
    { path: "/etc/postfix/master.cf", owner: "root", group: "root", mode: "0644", kind: "plain", content: renderTemplate("etc/postfix/master.cf", { header }) },
    { path: "/etc/postfix/main.cf", owner: "root", group: "root", mode: "0644", kind: "plain", content: mainCf(s) },
  ];
}
