// A stand-in resolver for the test network: dnsmasq in the root namespace answering A/AAAA for a
// fixed list of names and nothing else (no upstream, no /etc/hosts). For Pebble's `-dnsserver`
// and for a test host's /etc/resolv.conf. Listen on an address that exists (the bridge address
// exists once the first test host has booted).
// See dnsmasq(8): --address, --local, --bind-interfaces, --port.
import { ChildProcess, spawn } from "node:child_process";

export interface DnsRecord {
  /** Owner name; dnsmasq's --address also answers for every name below it. */
  name: string;
  a?: string;
  aaaa?: string;
}

export interface ResolverOptions {
  /** UDP/TCP port. Another test may hold port 53 on the bridge address. @default 53 */
  port?: number;
  /** Domains answered with NXDOMAIN for any name not listed (dnsmasq --local); otherwise
   * dnsmasq answers REFUSED for them. @default [] */
  localDomains?: string[];
  /** How long to wait for dnsmasq to bind. @default 5000 */
  startTimeoutMs?: number;
  /** MX records (dnsmasq --mx-host): mail for `domain` goes to `host`. @default [] */
  mx?: Array<{ domain: string; host: string }>;
}

export interface Resolver {
  /** "ip:port", the form Pebble's -dnsserver and dig's @ip -p want split. */
  address: string;
  ip: string;
  port: number;
  /** dnsmasq's own log so far (queries included). */
  log(): string;
  stop(): void;
}

const NAME_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

export function dnsmasqArgs(listen: string, records: DnsRecord[], port: number, localDomains: string[], mx: Array<{ domain: string; host: string }> = []): string[] {
  const args = ["--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces",
    `--listen-address=${listen}`, `--port=${port}`, "--log-facility=-", "--log-queries", "--user=root", "--pid-file="];
  for (const d of localDomains) {
    if (!NAME_RE.test(d)) throw new Error(`dns-standin: bad domain ${JSON.stringify(d)}`);
    args.push(`--local=/${d}/`);
  }
  for (const m of mx) {
    if (!NAME_RE.test(m.domain) || !NAME_RE.test(m.host)) throw new Error(`dns-standin: bad MX ${JSON.stringify(m)}`);
    args.push(`--mx-host=${m.domain},${m.host},10`);
  }
  for (const r of records) {
    if (!NAME_RE.test(r.name)) throw new Error(`dns-standin: bad name ${JSON.stringify(r.name)}`);
    if (!r.a && !r.aaaa) throw new Error(`dns-standin: ${r.name} has neither a nor aaaa`);
    if (r.a) args.push(`--address=/${r.name}/${r.a}`);
    if (r.aaaa) args.push(`--address=/${r.name}/${r.aaaa}`);
  }
  return args;
}

const alive = new Set<ChildProcess>();
process.once("exit", () => alive.forEach((c) => c.kill("SIGKILL")));

/** Start dnsmasq on `listen` (an IPv4 or IPv6 address) answering only for `records`. */
export async function startResolver(listen: string, records: DnsRecord[], opts: ResolverOptions = {}): Promise<Resolver> {
  const port = opts.port ?? 53;
  const child = spawn("dnsmasq", dnsmasqArgs(listen, records, port, opts.localDomains ?? [], opts.mx ?? []), { stdio: ["ignore", "pipe", "pipe"] });
  alive.add(child);
  let log = "";
  child.stdout!.on("data", (b) => (log += b));
  child.stderr!.on("data", (b) => (log += b));
  const stop = () => {
    alive.delete(child);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  };
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => fail(`did not start within ${opts.startTimeoutMs ?? 5000} ms`), opts.startTimeoutMs ?? 5000);
    const poll = setInterval(() => { if (/started, version/.test(log)) done(); }, 50);
    const onExit = (code: number | null, sig: string | null) => fail(`exited (${code ?? sig})`);
    const onError = (e: Error) => fail(e.message);
    child.once("exit", onExit);
    child.once("error", onError);
    function done() {
      clearTimeout(deadline); clearInterval(poll); child.off("exit", onExit); child.off("error", onError);
      resolve();
    }
    function fail(why: string) {
      clearTimeout(deadline); clearInterval(poll); stop();
      reject(new Error(`dnsmasq on ${listen}:${port} ${why}:\n${log}`));
    }
  });
  const address = listen.includes(":") ? `[${listen}]:${port}` : `${listen}:${port}`;
  return { address, ip: listen, port, log: () => log, stop };
}
