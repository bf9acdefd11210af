// Section: TLS required toward chosen next hops (smtp_tls_policy_maps), docs/tls.md#forced-tls-toward-peers.
// Only levels that never fall back to clear text are accepted: a policy that cannot be met
// defers the mail (4.7.x) and Postfix logs why.
import { ConfigReader, show } from "./reader";
import { checkDomain, checkHostAddress } from "./syntax";

export type PeerTlsLevel = "encrypt" | "secure" | "verify" | "fingerprint" | "dane-only";

export interface PeerTlsPolicy {
  /** The next hop as Postfix looks it up: domain, .domain, [host] or [host]:port. */
  destination: string;
  level: PeerTlsLevel;
  /** match= values: names for secure/verify, SHA-256 pins for fingerprint. */
  match: string[];
}

const LEVELS: PeerTlsLevel[] = ["encrypt", "secure", "verify", "fingerprint", "dane-only"];

/** Levels Postfix knows that may send in clear text, and what to write instead. */
const REFUSED: Record<string, string> = {
  none: "sends in clear text; leave the destination out to keep opportunistic TLS",
  may: "is the default (opportunistic TLS) and falls back to clear text; leave the destination out",
  dane: "falls back to clear text when the peer publishes no TLSA record; use dane-only",
};

export function readPeerTlsPolicies(r: ConfigReader): PeerTlsPolicy[] {
  const out: PeerTlsPolicy[] = [];
  const dnssec = r.boolean("dnssecResolver");
  r.forEach("smtpTlsPolicies", (entry, where) => {
    const policy = parsePolicy(entry);
    if (typeof policy === "string") return r.bad(where, `${show(entry)}${policy}`);
    if (policy.level === "dane-only" && !dnssec) {
      return r.bad(where, `${show(entry)}: dane-only needs a DNSSEC-validating resolver on the host; set mailfleet:dnssecResolver to true once it has one, or use secure or fingerprint`);
    }
    if (out.some((p) => p.destination === policy.destination)) return r.bad(where, `${show(entry)}: ${policy.destination} is listed twice`);
    out.push(policy);
  });
  return out;
}

/** "DESTINATION LEVEL [match=...]" -> the policy, or what is wrong with it. */
export function parsePolicy(entry: string): PeerTlsPolicy | string {
  const [destination = "", level = "", ...attrs] = entry.trim().split(/\s+/);
  const destinationProblem = checkDestination(destination);
  if (destinationProblem) return destinationProblem;
  if (REFUSED[level]) return `: level ${level} ${REFUSED[level]}`;
  if (!LEVELS.includes(level as PeerTlsLevel)) return `: level ${show(level)} is not one of ${LEVELS.join(", ")}`;
  const match: string[] = [];
  for (const attr of attrs) {
    const m = /^match=(.+)$/.exec(attr);
    if (!m) return `: ${show(attr)} is not a match= attribute (the only one mailfleet accepts)`;
    match.push(...m[1].split(level === "fingerprint" ? "|" : ":"));
  }
  const matchProblem = checkMatch(level as PeerTlsLevel, match);
  if (matchProblem) return matchProblem;
  const normal = level === "fingerprint" ? match.map(normalizePin) : match.map((m) => m.toLowerCase());
  return { destination: destination.toLowerCase(), level: level as PeerTlsLevel, match: normal };
}

function checkDestination(destination: string): string | undefined {
  const bracket = /^\[([^\]]+)\](?::([0-9]{1,5}))?$/.exec(destination);
  if (bracket) {
    const port = bracket[2] === undefined ? 25 : Number(bracket[2]);
    if (port < 1 || port > 65535) return `: ${show(destination)} has an invalid port`;
    const why = checkHostAddress(bracket[1]);
    return why ? `: ${show(destination)} ${why}` : undefined;
  }
  const why = checkDomain(destination.replace(/^\./, "").toLowerCase());
  return why ? `: destination ${show(destination)} is not a domain, .domain, [host] or [host]:port (${why})` : undefined;
}

const PIN = /^(?:[0-9a-fA-F]{2}:){31}[0-9a-fA-F]{2}$|^[0-9a-fA-F]{64}$/;

function checkMatch(level: PeerTlsLevel, match: string[]): string | undefined {
  switch (level) {
    case "encrypt":
    case "dane-only":
      return match.length ? `: level ${level} takes no match= attribute` : undefined;
    case "fingerprint":
      if (!match.length) return ": level fingerprint needs match= with the peer's SHA-256 certificate or public-key fingerprint (openssl x509 -noout -fingerprint -sha256)";
      return match.every((m) => PIN.test(m)) ? undefined : ": a fingerprint match= value is not a SHA-256 digest (32 hex bytes, with or without colons)";
    case "secure":
    case "verify":
      return match.every((m) => m === "nexthop" || m === "dot-nexthop" || m === "hostname" || !checkDomain(m.replace(/^\./, "").toLowerCase()))
        ? undefined
        : `: a match= name of level ${level} is not a domain, .domain, hostname, nexthop or dot-nexthop`;
    default: {
      const never: never = level;
      return never;
    }
  }
}

function normalizePin(pin: string): string {
  const hex = pin.replace(/:/g, "").toLowerCase();
  return hex.match(/../g)!.join(":");
}

/** The tls_policy(5) right-hand side of a policy. */
export function policyText(p: PeerTlsPolicy): string {
  if (!p.match.length) return p.level;
  return `${p.level} match=${p.match.join(p.level === "fingerprint" ? "|" : ":")}`;
}
