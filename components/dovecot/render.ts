// Pure: mail settings -> Dovecot's configuration file.
import { HostFile } from "../host/bundle";
import { managedHeader, renderTemplate } from "../render/template";

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
