// Section: virtual aliases (forwarding) and the postmaster address.
import { MailIdentity } from "./identity";
import { ROLE_ADDRESSES } from "../postfix/role-addresses";
import { isRoleAddress, postmasterProblem } from "./invariants";
import { Mailboxes } from "./mailboxes";
import { ConfigReader, k, show } from "./reader";
import { checkExternalAddress, parseAddress } from "./syntax";

export interface Alias {
  source: string;
  targets: string[];
}

export interface Aliases {
  aliases: Alias[];
  /** Receives postmaster@ and abuse@ of every hosted domain without its own alias, and root. */
  postmaster: string;
}

export function readAliases(r: ConfigReader, identity: MailIdentity, boxes: Mailboxes): Aliases {
  const aliases: Alias[] = [];
  const index = new Map<string, number>();
  const mailbox = new Set(boxes.mailboxes.map((m) => m.address));
  r.forEach("aliases", (entry, where, i) => {
    const alias = readAlias(r, identity, mailbox, index, entry, where);
    if (!alias) return;
    index.set(alias.source, i);
    aliases.push(alias);
  });
  const whereOf = (a: Alias) => `${k("aliases")}[${index.get(a.source)}]`;
  const hosted = (addr: string) => identity.domains.includes(addr.slice(addr.lastIndexOf("@") + 1));
  for (const a of aliases) {
    for (const t of a.targets) {
      // postmaster@ and abuse@ of every hosted domain exist even when not listed (generated aliases).
      if (hosted(t) && !boxes.listed.has(t) && !index.has(t) && !isRoleAddress(t)) {
        r.bad(whereOf(a), `target ${show(t)} is in a hosted domain but is neither a mailbox nor an alias; add it to mailfleet:mailboxes or fix the target`);
      }
    }
  }
  const postmaster = readPostmaster(r, identity, boxes, index);
  // The generated postmaster@/abuse@ aliases take part in loops too (postmaster: team@, team@: abuse@).
  const bySource = new Map([...generatedRoleAliases(identity, mailbox, index, postmaster), ...aliases].map((a) => [a.source, a]));
  for (const a of aliases) {
    // (an alias whose targets were all invalid has been reported already)
    if (!a.targets.length) continue;
    const loop = loopThrough(a.source, bySource);
    if (!loop) continue;
    if (!deliversSomewhere(a.source, bySource)) {
      r.bad(whereOf(a), `alias ${show(a.source)} only loops back to itself and delivers nowhere; point it at a mailbox`);
    } else {
      r.bad(whereOf(a), `alias ${show(a.source)} is part of a loop (${loop.join(" -> ")}): Postfix defers mail to it again and again instead of delivering; remove one link of the loop`);
    }
  }
  return { aliases, postmaster };
}

function readAlias(r: ConfigReader, identity: MailIdentity, mailbox: ReadonlySet<string>, index: ReadonlyMap<string, number>, entry: string, where: string): Alias | undefined {
  const m = /^\s*([^:\s]+)\s*:\s*(.+?)\s*$/.exec(entry);
  if (!m) return void r.bad(where, `${show(entry)} is not of the form "alias@domain: target[, target...]"`);
  const [, source, rest] = m;
  if (source.startsWith("@")) {
    return void r.bad(where, `${show(source)} is a catch-all; catch-alls defeat recipient checks at RCPT time and create backscatter, list the addresses instead`);
  }
  const parsed = parseAddress(source);
  if (typeof parsed === "string") return void r.bad(where, `alias ${show(source)} ${parsed}`);
  if (!identity.listedDomains.includes(parsed.domain)) {
    if (identity.domainsBroken) return undefined;
    return void r.bad(where, `alias ${show(source)} is not in a hosted domain (mailfleet:domains)`);
  }
  if (mailbox.has(source)) return void r.bad(where, `alias ${show(source)} is also a mailbox; an alias would hide the mailbox, remove one of them`);
  if (index.has(source)) return void r.bad(where, `alias ${show(source)} duplicates mailfleet:aliases[${index.get(source)}]; merge the targets into one entry`);
  const targets: string[] = [];
  for (const t of rest.split(",").map((s) => s.trim())) {
    // Hosted targets follow mailfleet's mailbox rules; external ones only RFC 5321's.
    const targetDomain = t.slice(t.lastIndexOf("@") + 1).toLowerCase();
    const why = identity.listedDomains.includes(targetDomain) ? parseAddress(t) : checkExternalAddress(t);
    if (typeof why === "string") {
      r.bad(where, `target ${show(t)} ${why}`);
      continue;
    }
    if (!targets.includes(t)) targets.push(t);
  }
  if (targets.includes(source) && targets.length > 1) {
    // "a: a, b" keeps a copy for a, which is no mailbox: every message bounces back to its sender.
    r.bad(where, `alias ${show(source)} lists itself as a target next to others; Postfix would try to deliver to ${show(source)} as well, which has no mailbox, and bounce every message to its sender (backscatter); remove it from its own targets`);
    return { source, targets: targets.filter((t) => t !== source) };
  }
  return { source, targets };
}

/** postmaster@ and abuse@ of every hosted domain that has no alias or mailbox of that name. */
function generatedRoleAliases(identity: MailIdentity, mailbox: ReadonlySet<string>, explicit: ReadonlyMap<string, number>, postmaster: string): Alias[] {
  if (postmaster === "") return [];
  return identity.domains.flatMap((d) => ROLE_ADDRESSES.map((role) => `${role}@${d}`))
    .filter((a) => !mailbox.has(a) && !explicit.has(a))
    .map((source) => ({ source, targets: [postmaster] }));
}

/** The alias path from `start` back to itself, if there is one. */
function loopThrough(start: string, bySource: ReadonlyMap<string, Alias>): string[] | undefined {
  const path: string[] = [];
  const done = new Set<string>();
  const walk = (cur: string): boolean => {
    const alias = bySource.get(cur);
    if (!alias || done.has(cur)) return false;
    path.push(cur);
    for (const t of alias.targets) {
      if (t === start || walk(t)) return true;
    }
    path.pop();
    done.add(cur);
    return false;
  };
  return walk(start) ? [...path, start] : undefined;
}

/** False when every expansion path of an alias returns to itself: it delivers nowhere. */
function deliversSomewhere(start: string, bySource: ReadonlyMap<string, Alias>): boolean {
  const stack = [start];
  const visited = new Set<string>();
  while (stack.length) {
    const cur = stack.pop()!;
    if (visited.has(cur)) continue;
    visited.add(cur);
    const alias = bySource.get(cur);
    if (!alias) return true;
    stack.push(...alias.targets);
  }
  return false;
}

function readPostmaster(r: ConfigReader, identity: MailIdentity, boxes: Mailboxes, aliasIndex: ReadonlyMap<string, number>): string {
  const postmaster = r.text("postmaster") ?? "";
  if (postmaster === "") {
    if (boxes.mailboxes.length > 0) return boxes.mailboxes[0].address;
    if (identity.listedDomains.length > 0 && boxes.listed.size === 0) {
      r.bad(k("postmaster"), "is not set and there is no mailbox to default to; set it to an address that is read (postmaster@ and abuse@ are required by RFC 5321/2142)");
    }
    return postmaster;
  }
  const known = (addr: string) => boxes.mailboxes.some((m) => m.address === addr) || aliasIndex.has(addr);
  const why = postmasterProblem(postmaster, identity, known);
  if (why) r.bad(k("postmaster"), `${show(postmaster)} ${why}`);
  return postmaster;
}
