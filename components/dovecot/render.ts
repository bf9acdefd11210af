// Pure: mail settings -> Dovecot's configuration file.
import { HostFile } from "../host/bundle";
import { managedHeader, renderTemplate } from "../render/template";
import { dovecotTls, TlsProfile } from "../tls/profile";

export interface DovecotSettings {
  stack: string;
  hostname: string;
  postmaster: string;
  tlsKeyFile: string;
  tlsCertFile: string;
  /** Ciphers, groups and DH parameters (docs/tls.md#tls-profile). */
  tlsProfile: TlsProfile;
  /** uid and gid of the vmail account that owns every Maildir (ISPmail convention: 5000). */
  vmailUid: number;
}

export function dovecotConf(s: DovecotSettings): HostFile {
  const tls = dovecotTls(s.tlsProfile);
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
      sslCipherList: tls.cipherList,
      sslCurveList: tls.curveList,
      sslDh: tls.dhLine,
      vmailUid: String(s.vmailUid),
    }),
  };
}
