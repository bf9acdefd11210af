// Section: how to reach the host over SSH.
import { ConfigReader, k, show } from "./reader";
import { checkHostAddress, checkHostKey } from "./syntax";

export interface HostConnection {
  address: string;
  port: number;
  user: string;
  /** Plaintext in memory only; wrapped with pulumi.secret() before it reaches any resource. */
  privateKey: string;
  hostKey: string;
}

export function readHost(r: ConfigReader): HostConnection {
  const address = r.text("hostAddress") ?? "";
  if (r.present("hostAddress")) {
    const why = checkHostAddress(address);
    if (why) r.bad(k("hostAddress"), `${show(address)} ${why}`);
  }
  const port = r.integer("sshPort");
  const user = r.text("sshUser") ?? "";
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) r.bad(k("sshUser"), `${show(user)} is not a valid Unix user name`);
  const privateKey = r.secretText("sshPrivateKey", "pulumi config set --secret mailfleet:sshPrivateKey < ~/.ssh/id_ed25519") ?? "";
  if (privateKey && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey)) {
    r.bad(k("sshPrivateKey"), "is not a private key in OpenSSH or PEM format (expected a -----BEGIN ... PRIVATE KEY----- block)");
  }
  const hostKey = (r.text("sshHostKey") ?? "").trim();
  if (r.present("sshHostKey")) {
    const why = checkHostKey(hostKey);
    if (why) r.bad(k("sshHostKey"), `${show(hostKey)} ${why}`);
  }
  return { address, port, user, privateKey, hostKey };
}
