// Pure: mail settings -> Dovecot's configuration file.
import { HostFile } from "../host/bundle";
import { managedHeader, renderTemplate } from "../render/template";
import { dovecotTls, TlsProfile } from "../tls/profile";
import type { HostSize } from "../host/host-size";
import { postfixCapacity } from "../postfix/capacity";
import { dovecotCapacity } from "./capacity";

export interface DovecotSettings {
  stack: string;
  hostname: string;
  postmaster: string;
  tlsKeyFile: string;
  tlsCertFile: string;
  /** Ciphers, groups and DH parameters (docs/tls.md#tls-profile). */
  tlsProfile: TlsProfile;
  /** Cores and memory of the host, which the limits derive from. */
  hostSize: HostSize;
  /** Concurrent IMAP sessions; 0: derived from hostSize. */
  imapMaxSessions: number;
  /** Postfix's smtpd processes per service; 0: derived from hostSize (they hold auth connections). */
  smtpdMaxProcesses: number;
  /** uid and gid of the vmail account that owns every Maildir (ISPmail convention: 5000). */
  vmailUid: number;
  /** Listen on IPv4 only (the host has no working IPv6). */
  ipv4Only: boolean;
}

export function dovecotConf(s: DovecotSettings): HostFile {
  const tls = dovecotTls(s.tlsProfile);
  const c = dovecotCapacity(s.hostSize, s.imapMaxSessions, postfixCapacity(s.hostSize, s.smtpdMaxProcesses).processes);
  return {
    path: "/etc/dovecot/dovecot.conf",
    owner: "root",
    group: "root",
    mode: "0644",
    kind: "plain",
    content: renderTemplate("etc/dovecot/dovecot.conf", {
      header: managedHeader(s.stack),
      // "::" on a host without IPv6 would stop Dovecot from starting.
      listen: s.ipv4Only ? "*" : "*, ::",
      hostname: s.hostname,
      postmaster: s.postmaster,
      tlsKeyFile: s.tlsKeyFile,
      tlsCertFile: s.tlsCertFile,
      sslCipherList: tls.cipherList,
      sslCurveList: tls.curveList,
      sslDh: tls.dhLine,
      hostSize: `${s.hostSize.cores} cores, ${s.hostSize.memMiB} MiB`,
      sessionsRule: s.imapMaxSessions > 0 ? "mailfleet:imapMaxSessions" : "(MiB - 512) / 4",
      imapSessions: String(c.imapSessions),
      imapProcessLimit: String(c.imapProcessLimit),
      loginProcesses: String(c.loginProcesses),
      loginClients: String(c.loginClientsPerProcess),
      authWorkers: String(c.authWorkers),
      clientLimit: String(c.clientLimit),
      authClientLimit: String(c.authClientLimit),
      vmailUid: String(s.vmailUid),
    }),
  };
}

/** Where mailfleet-imap-gate reads the number of IMAP sessions it lets in. */
export const IMAP_SESSIONS_FILE = "/etc/dovecot/mailfleet-imap-sessions";

/** The gate's limit: the sessions the capacity rule gives this host (docs/dovecot.md#capacity). */
export function imapSessionsFile(s: Pick<DovecotSettings, "hostSize" | "imapMaxSessions" | "smtpdMaxProcesses">): HostFile {
  const c = dovecotCapacity(s.hostSize, s.imapMaxSessions, postfixCapacity(s.hostSize, s.smtpdMaxProcesses).processes);
  return { path: IMAP_SESSIONS_FILE, owner: "root", group: "root", mode: "0644", kind: "plain", content: `${c.imapSessions}\n` };
}

/** The dict passdb's settings (docs/dovecot.md#capacity); no secret: the hashes live on the host. */
export function dictAuthConf(stack: string): HostFile {
  return {
    path: "/etc/dovecot/dovecot-dict-auth.conf.ext",
    owner: "root",
    group: "root",
    mode: "0644",
    kind: "plain",
    content: renderTemplate("etc/dovecot/dovecot-dict-auth.conf.ext", { header: managedHeader(stack) }),
  };
}
