// Section: senders and client networks refused at RCPT on port 25 with the operator's reply.
import { AccessRule } from "../postfix/settings";
import { MailIdentity } from "./identity";
import { blockedSenderProblem } from "./invariants";
import { ConfigReader, show } from "./reader";
import { checkDomain, checkReplyText, parseAddress, parseNetwork } from "./syntax";

export function readBlocklists(r: ConfigReader, identity: MailIdentity): { blockedSenders: AccessRule[]; blockedClients: AccessRule[] } {
  const blockedSenders: AccessRule[] = [];
  r.forEach("blockedSenders", (entry, where) => {
    const m = /^\s*(\S+?)\s*(?::\s*(.*?))?\s*$/.exec(entry);
    if (!m) return r.bad(where, `${show(entry)} is not of the form "KEY: reply text"`);
    const why = senderKeyProblem(m[1]);
    if (why) return r.bad(where, `${show(m[1])} ${why}`);
    const rule = accessRule(r, where, m[1], m[2] ?? "");
    if (!rule) return;
    const clash = blockedSenderProblem(rule.key, identity);
    if (clash) return r.bad(where, `${show(rule.key)} ${clash}`);
    if (blockedSenders.some((x) => x.key === rule.key)) return r.bad(where, `${show(rule.key)} is listed twice`);
    blockedSenders.push(rule);
  });
  const blockedClients: AccessRule[] = [];
  r.forEach("blockedClients", (entry, where) => {
    // IPv6 networks contain ":", so the reply text follows ": " (colon and space) here.
    const cut = entry.indexOf(": ");
    const net = parseNetwork((cut < 0 ? entry : entry.slice(0, cut)).trim());
    if (typeof net === "string") return r.bad(where, `${show(entry)} ${net}`);
    const rule = accessRule(r, where, net.cidr, cut < 0 ? "" : entry.slice(cut + 2).trim());
    if (!rule) return;
    if (blockedClients.some((x) => x.key === rule.key)) return r.bad(where, `${show(net.cidr)} is listed twice`);
    blockedClients.push(rule);
  });
  return { blockedSenders, blockedClients };
}

/** A sender key: an address, or a domain (which covers its subdomains). */
function senderKeyProblem(key: string): string | undefined {
  if (!key.includes("@")) return checkDomain(key);
  const a = parseAddress(key);
  return typeof a === "string" ? a : undefined;
}

/**
 * The access(5) action for a reply text: "550 5.7.1 text" sets the code itself; other text gets
 * REJECT (access_map_reject_code, 554); no text gets a neutral refusal.
 */
function accessRule(r: ConfigReader, where: string, key: string, reply: string): AccessRule | undefined {
  if (reply === "") return { key, action: "REJECT 5.7.1 Access denied by postmaster" };
  const why = checkReplyText(reply);
  if (why) return void r.bad(where, `reply text ${why}`);
  return { key, action: /^5[0-9][0-9] 5\.[0-9]{1,3}\.[0-9]{1,3} /.test(reply) ? reply : `REJECT 5.7.1 ${reply}` };
}
