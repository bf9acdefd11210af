// A minimal SMTP client for probes that swaks cannot express: many MAIL/RCPT pairs on one
// connection, raw bytes (bare LF, pipelining before the greeting) and STARTTLS with a pinned CA.
import * as net from "net";
import * as tls from "tls";

export class SmtpSession {
  private socket: net.Socket | tls.TLSSocket;
  private buffer = "";
  private waiters: Array<() => void> = [];
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.attach(socket);
  }

  private attach(socket: net.Socket | tls.TLSSocket): void {
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      this.buffer += d;
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  static connect(host: string, port: number): Promise<SmtpSession> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port }, () => resolve(new SmtpSession(s)));
      s.once("error", reject);
      s.setTimeout(20000, () => s.destroy(new Error("SMTP timeout")));
    });
  }

  /** The next complete reply (multi-line replies joined with "\n"), or "" if the server closed. */
  async reply(): Promise<string> {
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(this.buffer);
      if (m) {
        this.buffer = this.buffer.slice(m[0].length);
        return m[0].replace(/\r/g, "").trimEnd();
      }
      if (this.closed) return "";
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  write(raw: string): void {
    this.socket.write(raw);
  }

  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  async starttls(servername: string, ca: string): Promise<void> {
    const r = await this.command("STARTTLS");
    if (!r.startsWith("220")) throw new Error(`STARTTLS refused: ${r}`);
    const plain = this.socket as net.Socket;
    plain.removeAllListeners("data");
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const t = tls.connect({ socket: plain, servername, ca }, () => resolve(t));
      t.once("error", reject);
    });
    this.socket = secure;
    this.buffer = "";
    this.attach(secure);
  }

  close(): void {
    this.socket.end("QUIT\r\n");
    this.socket.destroy();
  }
}

/** Last line of a (multi-line) reply, e.g. "250 2.1.5 Ok". */
export function lastLine(reply: string): string {
  const lines = reply.split("\n");
  return lines[lines.length - 1];
}
