// One provisioned test host for an end-to-end suite: boot, provision from a stack through the
// engine double, and the probes every suite needs (submission, IMAP search and fetch).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Dialogue, imaps, ImapTarget, swaks, waitFor } from "./probe";
import { generatePasswords, hostOverrides, Override, runStack, StackRun, stackConfig } from "./stack-run";
import { startHost, stopHost, TestHost } from "./testhost";

export class ProvisionedHost {
  readonly hostname: string;
  readonly host: TestHost;
  readonly passwords: Record<string, string>;
  readonly overrides: Record<string, Override>;
  readonly dir: string;
  readonly first: StackRun;
  readonly imap: ImapTarget;
  private readonly statePath: string;

  /**
   * Boots test host `name` at address index `index` and runs the first `up` of `stack`;
   * `beforeFirstUp` may prepare the fresh host first (a held lock, an interrupted dpkg) and
   * return config overrides that every `up` of this host then uses.
   */
  constructor(readonly name: string, index: number, readonly stack = "sandbox", beforeFirstUp?: (host: TestHost) => Record<string, Override> | void) {
    this.hostname = String(stackConfig(stack).hostname);
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `mailfleet-${name}-`));
    this.statePath = path.join(this.dir, "state.json");
    this.host = startHost(name, { fqdn: this.hostname, index });
    const extra = beforeFirstUp?.(this.host) ?? {};
    this.passwords = generatePasswords(stack);
    this.overrides = { ...hostOverrides(this.host, this.passwords), ...extra };
    this.first = this.up();
    const caFile = path.join(this.dir, "ca.pem");
    fs.writeFileSync(caFile, String(this.first.summary.outputs.certificatePem ?? ""));
    this.imap = { hostname: this.hostname, address: this.host.ipv4, caFile };
  }

  /**
   * `pulumi up` through the engine double, with overrides on top of the stack file. Fails if any
   * step printed a secret (the real @pulumi/command would show it to the user).
   */
  up(extra: Record<string, Override> = {}): StackRun {
    const run = runStack("up", this.stack, { ...this.overrides, ...extra }, this.statePath);
    if (run.summary.secretLeaks.length) throw new Error(`steps printed a secret: ${run.summary.secretLeaks.join(", ")}`);
    return run;
  }

  /** `pulumi preview` of the stack with overrides: plans, runs nothing. */
  preview(extra: Record<string, Override> = {}): StackRun {
    return runStack("preview", this.stack, { ...this.overrides, ...extra }, this.statePath);
  }

  /** `pulumi destroy`: deletes every resource with the connection stored at its creation. */
  destroy(extra: Record<string, Override> = {}): StackRun {
    return runStack("destroy", this.stack, { ...this.overrides, ...extra }, this.statePath);
  }

  /** Authenticated submission: 587 with STARTTLS (PLAIN) or 465 with implicit TLS (LOGIN), certificate verified. */
  submit(port: 587 | 465, user: string, from: string, to: string, extra: string[] = []): Dialogue {
    return swaks([
      "--server", this.host.ipv4, "--port", String(port), port === 465 ? "--tlsc" : "--tls",
      "--tls-verify", "--tls-ca-path", this.imap.caFile, "--tls-sni", this.hostname,
      "--auth", port === 465 ? "LOGIN" : "PLAIN", "--auth-user", user, "--auth-password", this.passwords[user],
      "--from", from, "--to", to, ...extra,
    ]);
  }

  /** Submits a whole message (headers and body) on 587. */
  submitMessage(user: string, to: string, message: string): Dialogue {
    const file = path.join(this.dir, `msg-${Math.random().toString(36).slice(2)}.eml`);
    fs.writeFileSync(file, message.replace(/\r?\n/g, "\r\n"));
    return this.submit(587, user, user, to, ["--data", file]);
  }

  /** UIDs in `user`'s INBOX whose Subject contains `subject` (IMAP SEARCH matches substrings). */
  search(user: string, subject: string): number[] {
    const r = imaps(this.imap, user, this.passwords[user], "INBOX", `SEARCH SUBJECT "${subject}"`);
    const m = /^\* SEARCH( (?:\d+ ?)+)?\s*$/m.exec(r.out);
    if (!m) throw new Error(`IMAP SEARCH as ${user} failed: ${r.out}`);
    return m[1] ? m[1].trim().split(" ").map(Number) : [];
  }

  /** Waits until at least one message matches; returns the UIDs. */
  waitInbox(user: string, subject: string): Promise<number[]> {
    return waitFor(`"${subject}" in ${user}'s INBOX`, () => {
      const uids = this.search(user, subject);
      return uids.length ? uids : undefined;
    });
  }

  /** The newest matching message, as IMAP returns it. */
  async fetch(user: string, subject: string): Promise<string> {
    const uid = (await this.waitInbox(user, subject)).pop();
    return imaps(this.imap, user, this.passwords[user], `INBOX;UID=${uid}`).out;
  }

  stop(): void {
    stopHost(this.name);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
