// Dovecot: IMAP with TLS required, LMTP delivery for Postfix, SASL for Postfix, virtual users
// from a passwd-file under one vmail account (docs/dovecot.md).
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { installFiles } from "../host/install-files";
import { HostAccess, remoteStep } from "../host/remote";
import type { HostSize } from "../host/host-size";
import type { TlsProfile } from "../tls/profile";
import { dictAuthConf, dovecotConf, IMAP_SESSIONS_FILE, imapSessionsFile } from "./render";

export interface DovecotArgs {
  host: HostAccess;
  stack: string;
  hostname: string;
  /** Address in LMTP's postmaster_address (bounces Dovecot itself sends). */
  postmaster: string;
  tlsKeyFile: string;
  tlsCertFile: string;
  /** Ciphers, groups and DH parameters (docs/tls.md#tls-profile). */
  tlsProfile: TlsProfile;
  /** Cores and memory of the host (the package step reads them there). */
  hostSize: pulumi.Input<HostSize>;
  /** Listen on IPv4 only (mailfleet:ipv4Only). */
  ipv4Only: boolean;
  /**
   * Concurrent IMAP sessions.
   * @default derived from hostSize: (MiB - 512) / 4, between 100 and 20,000 (docs/dovecot.md#capacity)
   */
  imapMaxSessions?: number;
  /**
   * Postfix's smtpd processes per service; 0 derives them from hostSize (docs/postfix.md#capacity).
   * @default 0
   */
  smtpdMaxProcesses?: number;
  /**
   * Mailboxes with their passwords (each password a secret). Stored on the host only as
   * SHA512-CRYPT hashes in /etc/dovecot/users (root:dovecot 0640).
   */
  mailboxes: Array<{ address: string; password: pulumi.Input<string> }>;
  /** SHA512-CRYPT rounds for new password hashes (existing hashes are kept while they verify). */
  passwordHashRounds: number;
  /** Delete a removed mailbox's Maildir; otherwise it is archived under /var/vmail/.removed. */
  purgeRemovedMailboxes: boolean;
  dependsOn?: pulumi.Resource[];
}

/** uid and gid of the vmail account that owns every Maildir (the ISPmail convention). */
export const VMAIL_UID = 5000;

export class Dovecot extends pulumi.ComponentResource {
  /** The last step; Postfix depends on it (the LMTP and auth sockets exist after it). */
  public readonly configured: command.remote.Command;

  constructor(name: string, args: DovecotArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mailfleet:mail:Dovecot", name, {}, opts);
    const vmail = this.vmailAccount(name, args.host, VMAIL_UID, args.dependsOn);
    const users = this.users(name, args, vmail);
    const settings = pulumi.output(args.hostSize).apply((hostSize) => ({ ...args, hostSize, imapMaxSessions: args.imapMaxSessions ?? 0, smtpdMaxProcesses: args.smtpdMaxProcesses ?? 0, vmailUid: VMAIL_UID }));
    const file = (path: string, content: pulumi.Output<string>) => ({ path, owner: "root", group: "root", mode: "0644", kind: "plain" as const, content });
    this.configured = installFiles(`${name}-config`, args.host, "dovecot", [
      dictAuthConf(args.stack),
      file("/etc/dovecot/dovecot.conf", settings.apply((s) => dovecotConf(s).content)),
      // The post-login gate's limit (docs/dovecot.md#capacity).
      file(IMAP_SESSIONS_FILE, settings.apply((s) => imapSessionsFile(s).content)),
    ], {
      parent: this,
      dependsOn: [users],
    });
    this.registerOutputs({});
  }

  /** One unprivileged account owns all mail (docs/dovecot.md#mail-storage). */
  private vmailAccount(name: string, host: HostAccess, uid: number, after?: pulumi.Resource[]): command.remote.Command {
    const script = [
      "set -eu",
      `getent group vmail >/dev/null || groupadd --system --gid ${uid} vmail`,
      `getent passwd vmail >/dev/null || useradd --system --uid ${uid} --gid vmail --home-dir /var/vmail --no-create-home --shell /usr/sbin/nologin vmail`,
      `if [ "$(id -u vmail)" != ${uid} ] || [ "$(getent group vmail | cut -d: -f3)" != ${uid} ]; then`,
      `  echo "mailfleet: account vmail exists with uid $(id -u vmail), gid $(getent group vmail | cut -d: -f3); expected ${uid}" >&2; exit 1`,
      "fi",
      "install -d -o vmail -g vmail -m 0750 /var/vmail",
    ].join("\n");
    return remoteStep(`${name}-vmail`, { host, create: "bash -s", stdin: script }, { parent: this, dependsOn: after });
  }

  /** The passwd-file; passwords go on stdin and are hashed on the host (mailfleet-users). */
  private users(name: string, args: DovecotArgs, after: pulumi.Resource): command.remote.Command {
    const lines = pulumi
      .all(args.mailboxes.map((m) => pulumi.output(m.password)))
      // "@@done COUNT" proves the list arrived whole: a cut-off list would lock out every mailbox after the cut.
      .apply((passwords) => `${args.mailboxes.map((m, i) => `${m.address}\t${passwords[i]}\n`).join("")}@@done ${args.mailboxes.length}\n`);
    return remoteStep(`${name}-users`, {
      host: args.host,
      // The file named explicitly: hosts provisioned before the dict passdb re-run this step and get users.dict.
      create: `/usr/local/sbin/mailfleet-users ${args.purgeRemovedMailboxes ? "--purge " : ""}${args.passwordHashRounds} /etc/dovecot/users`,
      stdin: pulumi.secret(lines),
      secret: true,
    }, { parent: this, dependsOn: [after] });
  }
}
