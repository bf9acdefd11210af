// Pure: mail settings -> Dovecot's configuration file.
import { HostFile, managedHeader, renderTemplate } from "./render";

export interface DovecotSettings {
  stack: string;
  hostname: string;
  postmaster: string;
  tlsKeyFile: string;
  tlsCertFile: string;
  /** uid and gid of the vmail account that owns every Maildir (ISPmail convention: 5000). */
  vmailUid: number;
}

export function dovecotConf(s: DovecotSettings): HostFile {
  return {
    path: "/etc/dovecot/dovecot.conf",
    owner: "root",
    group: "root",
    mode: "0644",
    kind: "plain",
    content: renderTemplate("etc/dovecot/dovecot.conf", {
      header: managedHeader(s.stack),
      hostname: s.hostname,
      postmaster: s.postmaster,
      tlsKeyFile: s.tlsKeyFile,
      tlsCertFile: s.tlsCertFile,
      vmailUid: String(s.vmailUid),
    }),
  };
}
