// Real clients against a test host: swaks for SMTP dialogues, curl for IMAP(S).
import { spawn, spawnSync } from "child_process";

export interface Dialogue {
  code: number;
  /** Server replies in order, without swaks' direction markers. */
  replies: string[];
  raw: string;
}

/** Runs swaks; `replies` keeps only the server's lines (before and after TLS, errors included). */
export function swaks(args: string[]): Dialogue {
  const r = spawnSync("swaks", [...args, "--timeout", "20"], { encoding: "utf8", timeout: 60000 });
  const raw = `${r.stdout}${r.stderr}`;
  const replies = raw
    .split("\n")
    .filter((l) => /^<(-|~|\*\*|~\*)\s/.test(l))
    .map((l) => l.replace(/^<(-|~|\*\*|~\*)\s+/, ""));
  return { code: r.status ?? 1, replies, raw };
}

/** The reply to the last command swaks sent before quitting (the one under test). */
export function lastReply(d: Dialogue): string {
  const r = d.replies.filter((l) => !/^221 /.test(l));
  return r[r.length - 1] ?? "";
}

export interface ImapTarget {
  hostname: string;
  address: string;
  caFile: string;
}

/** An IMAP command over IMAPS (993) with the certificate verified against caFile and hostname. */
export function imaps(t: ImapTarget, user: string, password: string, urlPath: string, request?: string): { code: number; out: string } {
  const host = t.address.includes(":") ? `[${t.address}]` : t.address;
  const args = ["-sS", "--max-time", "20", "--cacert", t.caFile, "--connect-to", `${t.hostname}:993:${host}:993`,
    "-u", `${user}:${password}`, `imaps://${t.hostname}/${urlPath}`];
  if (request) args.push("-X", request);
  const r = spawnSync("curl", args, { encoding: "utf8", timeout: 60000 });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

/** Polls until fn returns a value (not undefined) or the time is up. */
export async function waitFor<T>(what: string, fn: () => T | undefined, seconds = 20): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${seconds}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface ImapSession {
  /** Resolves once LOGIN succeeded. */
  loggedIn: Promise<void>;
  /** Resolves with everything the server sent when it closes the connection (or after 20 s). */
  closed: Promise<string>;
}

/** An IMAPS session held open after LOGIN (openssl s_client), to watch the server end it. */
export function openImapSession(host: { ipv4: string }, caFile: string, hostname: string, user: string, password: string): ImapSession {
  const child = spawn("openssl", ["s_client", "-quiet", "-connect", `${host.ipv4}:993`, "-servername", hostname, "-CAfile", caFile, "-verify_return_error"], {
    stdio: ["pipe", "pipe", "ignore"],
  });
  let out = "";
  let onLogin: () => void = () => undefined;
  let onFail: (e: Error) => void = () => undefined;
  const loggedIn = new Promise<void>((resolve, reject) => ((onLogin = resolve), (onFail = reject)));
  child.stdout.on("data", (d) => {
    out += d;
    if (/^a OK/m.test(out)) onLogin();
    if (/^a (NO|BAD)/m.test(out)) onFail(new Error(`IMAP LOGIN as ${user} failed: ${out}`));
  });
  child.stdin.write(`a LOGIN "${user}" "${password}"\r\n`);
  const timer = setTimeout(() => child.kill(), 20000);
  const closed = new Promise<string>((resolve) =>
    child.on("close", () => {
      clearTimeout(timer);
      onFail(new Error(`IMAP session as ${user} closed before LOGIN: ${out}`));
      resolve(out);
    }),
  );
  return { loggedIn, closed };
}
