// Section: mail policy (relay trust, AUTH on 25, header privacy, read receipts, queue and
// postscreen settings); the blocklists have their own section.
import { MailPolicy } from "../postfix/settings";
import { readBlocklists } from "./blocklists";
import { MailIdentity } from "./identity";
import { ConfigReader, show } from "./reader";
import { HostConnection } from "./host";
import { trustedNetworkProblem } from "./invariants";
import { readNetwork } from "./network";
import { readPeerTlsPolicies } from "./peer-tls";
import { checkDomain, checkHeaderName, Network, parseNetwork } from "./syntax";

/** Headers that carry the message itself; stripping one breaks mail (docs/postfix.md#header-privacy). */
const ESSENTIAL_HEADERS = ["from", "to", "cc", "date", "subject", "message-id", "mime-version", "content-type", "content-transfer-encoding", "received"];

export function readPolicy(r: ConfigReader, identity: MailIdentity, host: Pick<HostConnection, "address">): MailPolicy {
  const trustedNetworks = readTrustedNetworks(r, host.address);
  const allowAuthOnPort25 = r.boolean("allowAuthOnPort25");
  const headerPrivacy = r.boolean("headerPrivacy");
  const headerPrivacyStrip = readStripList(r);
  const { blockedSenders, blockedClients } = readBlocklists(r, identity);
  return {
    trustedNetworks: trustedNetworks.map((n) => n.postfix),
    allowAuthOnPort25,
    headerPrivacy,
    headerPrivacyStrip,
    blockedSenders,
    blockedClients,
    blockReadReceipts: r.boolean("blockReadReceipts"),
    rejectUnknownSenderDomain: r.boolean("rejectUnknownSenderDomain"),
    srsForwarding: r.boolean("srsForwarding"),
    authRateLimitPerMinute: r.integer("authRateLimitPerMinute"),
    bounceQueueLifetimeDays: r.integer("bounceQueueLifetimeDays"),
    queueCleanupTimer: r.boolean("queueCleanupTimer"),
    postscreenDnsblSites: readDnsblSites(r),
    postscreenDnsblThreshold: r.integer("postscreenDnsblThreshold"),
    smtpTlsPolicies: readPeerTlsPolicies(r),
    dnssecResolver: r.boolean("dnssecResolver"),
    ...readNetwork(r, identity),
  };
}

function readTrustedNetworks(r: ConfigReader, hostAddress: string): Network[] {
  const out: Network[] = [];
  r.forEach("trustedNetworks", (entry, where) => {
    const net = parseNetwork(entry);
    if (typeof net === "string") return r.bad(where, `${show(entry)} ${net}`);
    const why = trustedNetworkProblem(net, hostAddress);
    if (why) return r.bad(where, `${show(entry)} ${why}`);
    if (out.some((n) => n.postfix === net.postfix)) return r.bad(where, `${show(entry)} is listed twice`);
    out.push(net);
  });
  return out;
}

function readStripList(r: ConfigReader): string[] {
  const out: string[] = [];
  r.forEach("headerPrivacyStrip", (name, where) => {
    const why = checkHeaderName(name);
    if (why) return r.bad(where, `${show(name)} ${why}`);
    if (ESSENTIAL_HEADERS.includes(name.toLowerCase())) {
      return r.bad(where, `${show(name)} carries the message itself and must not be stripped${name.toLowerCase() === "received" ? " (the client's own Received hop is removed by headerPrivacy)" : ""}`);
    }
    if (out.some((h) => h.toLowerCase() === name.toLowerCase())) return r.bad(where, `${show(name)} is listed twice`);
    out.push(name);
  });
  return out;
}

/** postscreen_dnsbl_sites(5): four octets, each a number, [a..b] or [a;b;...]; 0-255. */
const OCTET = "(?:[0-9]{1,3}|\\[[0-9]{1,3}(?:\\.\\.[0-9]{1,3})?(?:;[0-9]{1,3}(?:\\.\\.[0-9]{1,3})?)*\\])";
const FILTER = new RegExp(`^=${OCTET}(?:\\.${OCTET}){3}$`);

function readDnsblSites(r: ConfigReader): string[] {
  const out: string[] = [];
  r.forEach("postscreenDnsblSites", (site, where) => {
    const m = /^([a-z0-9.-]+)(=[0-9.\[\];]+)?(\*-?[0-9]+)?$/.exec(site);
    if (!m || checkDomain(m[1])) return r.bad(where, `${show(site)} is not a DNSBL site of the form name=filter*weight`);
    const filterOk = m[2] !== undefined && FILTER.test(m[2]) && (m[2].match(/[0-9]+/g) ?? []).every((n) => Number(n) <= 255);
    if (m[2] && !filterOk) return r.bad(where, `${show(site)} has a malformed result filter; write four octets such as =127.0.0.[2..11]`);
    if (!m[2] || !m[2].startsWith("=127.")) {
      return r.bad(where, `${show(site)} has no result filter; a resolver refused by the list answers 127.255.255.254, which would reject all mail: add one such as ${m[1]}=127.0.0.[2..11]`);
    }
    out.push(site);
  });
  return out;
}
