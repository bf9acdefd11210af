// Section: the smarthost all outbound mail goes through, and its SASL login.
import { ConfigReader, k, show } from "./reader";
import { checkHostAddress } from "./syntax";

export interface RelayHost {
  /** Host name or IP literal, without brackets. */
  host: string;
  port: number;
  /** Postfix next-hop form: `[host]:port` (brackets: no MX lookup). */
  nexthop: string;
  username: string;
  /** Plaintext in memory only; wrapped with pulumi.secret() before it reaches any resource. */
  password: string;
}

/** Submission port (RFC 6409) when the operator names none. */
const SUBMISSION_PORT = 587;

export function readRelay(r: ConfigReader): RelayHost | undefined {
  const text = (r.text("relayHost") ?? "").trim();
  const username = r.text("relayHostUsername") ?? "";
  const password = r.text("relayHostPassword") ?? "";
  if (password !== "" && !r.isSecret("relayHostPassword")) {
    r.bad(k("relayHostPassword"), "is stored in plain text; store it as a secret: pulumi config set --secret mailfleet:relayHostPassword");
  }
  if (text === "") {
    if (username !== "" || password !== "") {
      r.bad(k("relayHost"), "is empty but smarthost credentials are set; set the smarthost or remove mailfleet:relayHostUsername/relayHostPassword");
    }
    return undefined;
  }
  const relay = parseRelay(r, text, username, password);
  checkCredentials(r, username, password);
  return relay;
}

function parseRelay(r: ConfigReader, text: string, username: string, password: string): RelayHost | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]+))(?::([0-9]{1,5}))?$/.exec(text);
  const host = m ? (m[1] ?? m[2]) : "";
  const port = m && m[3] ? Number(m[3]) : SUBMISSION_PORT;
  const hostProblem = !m ? "is not of the form host, host:port or [host]:port" : checkHostAddress(host);
  if (hostProblem) r.bad(k("relayHost"), `${show(text)} ${hostProblem}`);
  else if (port === 465) r.bad(k("relayHost"), `${show(text)} uses port 465 (implicit TLS), which mailfleet does not support yet; use the provider's submission port 587 (STARTTLS)`);
  else if (port < 1 || port > 65535) r.bad(k("relayHost"), `${show(text)} has an invalid port`);
  else return { host, port, nexthop: `[${host}]:${port}`, username, password };
  return undefined;
}

function checkCredentials(r: ConfigReader, username: string, password: string): void {
  if (username !== "" && !/^[^\s:\u0000-\u001f\u007f]+$/.test(username)) r.bad(k("relayHostUsername"), `${show(username)} may not contain white space, control characters or ":"`);
  if (username !== "" && password === "") r.bad(k("relayHostPassword"), "is empty but mailfleet:relayHostUsername is set; set the password with pulumi config set --secret mailfleet:relayHostPassword");
  if (username === "" && password !== "") r.bad(k("relayHostUsername"), "is empty but mailfleet:relayHostPassword is set; set the login name too");
  if (password !== "" && (password !== password.trim() || /[\u0000-\u001f\u007f]/.test(password))) {
    r.bad(k("relayHostPassword"), "has leading or trailing white space or a control character, which the SASL password map cannot carry");
  }
}
