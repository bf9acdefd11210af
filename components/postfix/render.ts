// Pure: mail settings -> the text of every Postfix file mailfleet manages.
import { HostFile } from "../host/bundle";
import { LookupTable, renderTableEntries } from "../render/lookup-table";
import { managedHeader, renderTemplate } from "../render/template";
import { policyText } from "../config/peer-tls";
import { postfixTls } from "../tls/profile";
import { ROLE_ADDRESSES } from "./role-addresses";
import { PostfixSettings } from "./settings";

export type { AccessRule, PostfixSettings } from "./settings";

/** Loopback, always first; then the operator's networks (docs/postfix.md#identity-and-networks). */
/** Rspamd's proxy worker as a milter (Debian's worker-proxy.inc listens there). */
export const RSPAMD_MILTER = "inet:127.0.0.1:11332";

export const LOOPBACK_NETWORKS = ["127.0.0.0/8", "[::ffff:127.0.0.0]/104", "[::1]/128"];

export function virtualAliasTable(s: PostfixSettings): LookupTable {
  // A role address that is itself an alias or a mailbox (a real postmaster@ inbox) is not generated.
  const explicit = new Set([...s.aliases.map((a) => a.source), ...s.mailboxes]);
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

function table(stack: string, file: string, comment: string, t: LookupTable, kind: "postmap" | "plain"): HostFile {
  const content = renderTemplate(`etc/postfix/${file}`, {
    header: managedHeader(stack),
    comment: comment.split("\n").map((l) => `# ${l}`).join("\n"),
    entries: renderTableEntries(t),
  });
  return { path: `/etc/postfix/${file}`, owner: "root", group: "root", mode: "0644", kind, content };
}

/** postsrsd's TCP lookup tables (Debian's defaults: loopback, ports 10001 and 10002). */
export const POSTSRSD_FORWARD = "tcp:127.0.0.1:10001";
export const POSTSRSD_REVERSE = "tcp:127.0.0.1:10002";
/** The addresses postsrsd's reverse table is asked about: the host's own SRS addresses. */
export const SRS_REVERSE_FILTER = "/etc/postfix/srs_reverse";

/**
 * The reverse table behind a filter: pipemap(5) hands postsrsd only what the regexp table
 * passes on, so the ordinary recipient (smtpd's check and cleanup) and every header address the
 * LMTP client's generic mapping reads never cost a round trip to postsrsd, nor wait on it.
 */
const SRS_REVERSE = `pipemap:{regexp:${SRS_REVERSE_FILTER}, ${POSTSRSD_REVERSE}}`;

/**
 * SRS (docs/postfix.md#srs). cleanup rewrites the envelope sender of every message from an outside
 * domain (postsrsd leaves the hosted domains and the host name alone) and turns a reply to a
 * rewritten address back into the original one; smtpd accepts such a reply on port 25 because
 * its recipient is found in recipient_canonical_maps. A message keeps one sender for all its
 * recipients, so the LMTP client gives mailbox deliveries the original sender back.
 */
function srsSettings(): Array<[string, string]> {
  return [
    ["sender_canonical_maps", POSTSRSD_FORWARD],
    ["sender_canonical_classes", "envelope_sender"],
    ["recipient_canonical_maps", SRS_REVERSE],
    ["recipient_canonical_classes", "envelope_recipient"],
    ["lmtp_generic_maps", SRS_REVERSE],
  ];
}

export function relayRestrictions(): string[] {
  return ["permit_mynetworks", "permit_sasl_authenticated", "reject_unauth_destination"];
}

/** Postfix settings lines as one block; empty blocks say why in a comment. */
function block(lines: Array<[string, string]>, whenEmpty: string): string {
  return lines.length ? lines.map(([k, v]) => `${k} = ${v}`).join("\n") : `# ${whenEmpty}`;
}

export function mainCf(s: PostfixSettings): string {
  const mydomain = s.hostname.slice(s.hostname.indexOf(".") + 1);
  const smarthost: Array<[string, string]> = s.relayHost
    ? [
        ["relayhost", s.relayHost.nexthop],
        ...(s.relayHost.authenticated
          ? ([
              ["smtp_sasl_auth_enable", "yes"],
              ["smtp_sasl_password_maps", "hash:/etc/postfix/sasl_passwd"],
              ["smtp_sasl_security_options", "noanonymous"],
              ["smtp_sasl_tls_security_options", "noanonymous"],
            ] as Array<[string, string]>)
          : []),
      ]
    : [];
  const sites = s.postscreenDnsblSites;
  const postscreen: Array<[string, string]> = [
    ["postscreen_access_list", "permit_mynetworks"],
    ["postscreen_client_connection_count_limit", String(s.capacity.perClientConnections)],
    // Clients waiting for a free smtpd, and clients being screened: 421 beyond either.
    ["postscreen_post_queue_limit", String(s.capacity.processes)],
    ["postscreen_pre_queue_limit", String(s.capacity.processes)],
    ...(sites.length
      ? ([
          ["postscreen_dnsbl_sites", sites.join(", ")],
          ["postscreen_dnsbl_threshold", String(s.postscreenDnsblThreshold)],
          ["postscreen_dnsbl_action", "enforce"],
          ["postscreen_greet_action", "enforce"],
        ] as Array<[string, string]>)
      : ([
          // No tests without DNSBLs: the pregreet test alone would hold every new client's first
          // connection for postscreen_greet_wait (6 s) and still pass a silent one.
          ["postscreen_greet_banner", ""],
        ] as Array<[string, string]>)),
  ];
  const tls = postfixTls(s.tlsProfile);
  return renderTemplate("etc/postfix/main.cf", {
    header: managedHeader(s.stack),
    smtpdTlsProtocols: tls.protocols,
    smtpdTlsMandatoryProtocols: tls.mandatoryProtocols,
    smtpdTlsExcludeCiphers: tls.excludeCiphers,
    smtpdTlsMandatoryExcludeCiphers: tls.mandatoryExcludeCiphers,
    smtpdTlsDhParamFile: tls.dhParamFile,
    inetProtocols: s.ipv4Only
      ? "# mailfleet:ipv4Only: the host has no working IPv6.\ninet_protocols = ipv4"
      : "inet_protocols = all",
    smtpBind: [
      s.smtpBindAddress ? `smtp_bind_address = ${s.smtpBindAddress}` : "# smtp_bind_address: the kernel's choice (mailfleet:smtpBindAddress).",
      s.ipv4Only ? "" : s.smtpBindAddress6 ? `smtp_bind_address6 = ${s.smtpBindAddress6}` : "# smtp_bind_address6: the kernel's choice (mailfleet:smtpBindAddress6).",
    ].filter((l) => l).join("\n"),
    srs: block(s.srsForwarding ? srsSettings() : [], "SRS off (mailfleet:srsForwarding): forwarded mail keeps its sender and may fail SPF at the destination."),
    dnssec: s.dnssecResolver
      ? "# The host's resolver validates DNSSEC (mailfleet:dnssecResolver): DANE policies can work.\nsmtp_dns_support_level = dnssec"
      : "# No DNSSEC-validating resolver declared (mailfleet:dnssecResolver): no DANE.",
    hostname: s.hostname,
    mydomain,
    mynetworks: [...LOOPBACK_NETWORKS, ...s.trustedNetworks].join(" "),
    bounceQueueLifetime: `${s.bounceQueueLifetimeDays}d`,
    tlsKeyFile: s.tlsKeyFile,
    tlsCertFile: s.tlsCertFile,
    saslOnPort25: s.allowAuthOnPort25 ? "yes" : "no",
    relayRestrictions: relayRestrictions().join(", "),
    recipientRestrictions: [
      "check_client_access cidr:/etc/postfix/client_access.cidr",
      "check_sender_access hash:/etc/postfix/sender_access",
      "reject_non_fqdn_recipient",
      "reject_unknown_recipient_domain",
    ].join(", "),
    // A login on port 25 (allowAuthOnPort25) may send only as its own addresses, as on 587/465.
    // Only then: without SASL on 25, smtpd warns "restriction ... ignored: no SASL support".
    senderRestrictions: [
      ...(s.allowAuthOnPort25 ? ["reject_authenticated_sender_login_mismatch"] : []),
      "reject_non_fqdn_sender",
      ...(s.rejectUnknownSenderDomain ? ["reject_unknown_sender_domain"] : []),
    ].join(", "),
    authRateLimit: String(s.authRateLimitPerMinute),
    muaSenderRestrictions: ["reject_non_fqdn_sender", "reject_sender_login_mismatch", "permit_sasl_authenticated", "reject"].join(", "),
    smarthost: block(smarthost, "none: mail goes to each domain's MX (mailfleet:relayHost is empty)"),
    postscreen: block(postscreen, ""),
    postscreenComment: sites.length
      ? "# DNSBL and pregreet tests (mailfleet:postscreenDnsblSites), and the limits below."
      : "# No tests (mailfleet:postscreenDnsblSites is empty): it hands every client on at once, and\n# answers 421 beyond the limits below instead of leaving clients waiting in silence.",
    processLimit: String(s.capacity.processes),
  });
}

export function masterCf(s: PostfixSettings): string {
  // Port 25 always through postscreen: one process holds every waiting client and answers 421
  // beyond the limits (docs/postfix.md#capacity). The smtpd behind it counts a client's sessions.
  const mxService = [
    "smtp      inet  n       -       y       -       1       postscreen",
    `smtpd     pass  -       -       y       -       ${String(s.capacity.processes).padEnd(7)} smtpd`,
    `  -o smtpd_client_connection_count_limit=${s.capacity.perClientConnections}`,
    ...(s.postscreenDnsblSites.length ? ["dnsblog   unix  -       -       y       -       0       dnsblog"] : []),
    "tlsproxy  unix  -       -       y       -       0       tlsproxy",
  ].join("\n");
  // The smtp client with one address family, for transport_maps (docs/postfix.md#address-families).
  const familyTransports = ([4, 6] as const)
    .filter((f) => f === 4 || !s.ipv4Only)
    .map((f) => [
      `smtp-ipv${f} unix  -       -       y       -       -       smtp`,
      `  -o syslog_name=postfix/smtp-ipv${f}`,
      `  -o inet_protocols=ipv${f}`,
    ].join("\n"))
    .join("\n");
  // Rspamd signs submitted mail (docs/dkim.md); while it is down the client gets 4xx and retries.
  const submissionMilters = s.dkimMilter
    ? `  -o smtpd_milters=${RSPAMD_MILTER}\n  -o milter_default_action=tempfail`
    : "  -o smtpd_milters=";
  return renderTemplate("etc/postfix/master.cf", { header: managedHeader(s.stack), mxService, familyTransports, submissionMilters, smtpdProcesses: String(s.capacity.processes) });
}

/**
 * TLS toward the smarthost (docs/postfix.md#smarthost): `secure` (CA-verified, name must match) for a host name;
 * an IP literal has no name to verify, so `encrypt` there.
 */
export function smarthostTlsPolicy(nexthop: string): string {
  const host = nexthop.replace(/^\[(.*)\](:\d+)?$/, "$1");
  return /^[0-9.]+$|:/.test(host) ? "encrypt" : `secure match=${host}`;
}

/** tls_policy(5): the smarthost's entry, then the operator's per-destination levels. */
export function tlsPolicyTable(s: PostfixSettings): LookupTable {
  const entries: Array<[string, string]> = s.relayHost ? [[s.relayHost.nexthop, smarthostTlsPolicy(s.relayHost.nexthop)]] : [];
  for (const p of s.smtpTlsPolicies) entries.push([p.destination, policyText(p)]);
  return { entries };
}

/** POSIX ERE for a literal header name (regexp_table(5) is case-insensitive by default). */
function headerPattern(name: string): string {
  return `/^${name.replace(/[.[\]()*+?{}|^$\\/]/g, "\\$&")}:/`;
}

/** cleanup_submission's header_checks: privacy and read receipts (docs/postfix.md#header-privacy). */
export function submissionHeaderRules(s: PostfixSettings): string[] {
  const rules: string[] = [];
  if (s.headerPrivacy) {
    // The hop Postfix adds for an authenticated client ("with ESMTPSA"): it carries the client's IP.
    rules.push("/^Received:.*[[:space:]]with (ESMTP|UTF8SMTP)S?A[[:space:]]/ IGNORE");
    for (const name of s.headerPrivacyStrip) rules.push(`${headerPattern(name)} IGNORE`);
  }
  if (s.blockReadReceipts) {
    // MDNs only: DSNs (report-type=delivery-status) use multipart/report too and must pass.
    rules.push('/^Content-Type:.*report-type="?disposition-notification/ DISCARD outbound read receipt (MDN) suppressed');
    rules.push("/^Disposition-Notification-To:/ IGNORE", "/^Return-Receipt-To:/ IGNORE");
  }
  return rules;
}

/** The smarthost's SASL password map (root:root 0600; installed on its own, as a secret). */
export function smarthostCredentials(stack: string, nexthop: string, username: string, password: string): HostFile {
  const content = renderTemplate("etc/postfix/sasl_passwd", {
    header: managedHeader(stack),
    comment: "# smtp_sasl_password_maps: the key matches relayhost exactly, brackets and port included.",
    entries: renderTableEntries({ entries: [[nexthop, `${username}:${password}`]] }),
  });
  return { path: "/etc/postfix/sasl_passwd", owner: "root", group: "root", mode: "0600", kind: "postmap", content };
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
      // Debian's tools read the mail name from /etc/mailname: the file holds the name only.
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
    table(s.stack, "sender_access", "Blocked envelope senders, refused at RCPT on port 25 (mailfleet:blockedSenders).", {
      entries: s.blockedSenders.map((r) => [r.key, r.action]),
    }, "postmap"),
    table(s.stack, "client_access.cidr", "Blocked client networks, refused at RCPT on port 25 (mailfleet:blockedClients).\ncidr_table(5): no postmap; read on postfix reload.", {
      entries: s.blockedClients.map((r) => [r.key, r.action]),
    }, "plain"),
    table(s.stack, "transport", "Destinations reached over one address family (transport_maps): mailfleet:forceIpv4Domains and\nforceIpv6Domains. \"domain\" is the domain itself, \".domain\" its subdomains.", {
      entries: s.addressFamilyRoutes.map((r) => [r.destination, `smtp-ipv${r.family}:`]),
    }, "postmap"),
    table(s.stack, "tls_policy", "TLS level per next hop (smtp_tls_policy_maps): the smarthost and mailfleet:smtpTlsPolicies.\nMail that cannot meet its level is deferred (4.7.x), never sent in clear.", tlsPolicyTable(s), "postmap"),
    {
      path: "/etc/postfix/submission_header_checks",
      owner: "root",
      group: "root",
      mode: "0644",
      kind: "plain",
      content: renderTemplate("etc/postfix/submission_header_checks", {
        header,
        rules: submissionHeaderRules(s).map((r) => `${r}\n`).join("") || "# no rules: mailfleet:headerPrivacy and mailfleet:blockReadReceipts are off\n",
      }),
    },
    {
      path: SRS_REVERSE_FILTER,
      owner: "root",
      group: "root",
      mode: "0644",
      kind: "plain",
      content: renderTemplate("etc/postfix/srs_reverse", { header, hostnamePattern: s.hostname.replace(/\./g, "\\.") }),
    },
    { path: "/etc/postfix/master.cf", owner: "root", group: "root", mode: "0644", kind: "plain", content: masterCf(s) },
    { path: "/etc/postfix/main.cf", owner: "root", group: "root", mode: "0644", kind: "plain", content: mainCf(s) },
  ];
}
