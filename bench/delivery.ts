// Benchmark: mail accepted on port 25 and delivered into Maildirs, on a mailfleet host (virtual
// mailboxes: Postfix -> LMTP -> Dovecot) against two references on test hosts of their own:
// stock Debian 12 Postfix (local(8) into ~/Maildir/ of local users), and stock Debian 12 Postfix
// handing the same local users' mail to Debian's own Dovecot over LMTP (the packages' settings,
// plus the few lines that join the two: what mailfleet's configuration costs beyond the design
// it shares). All run on this machine, one after the other, never at the same time.
//   node --import tsx bench/delivery.ts    (root; boots "benchmail", "benchstock" and
//   "benchlmtp", removes them)
// Each round injects MESSAGES messages of about 4 KiB, one recipient each, spread evenly over
// MAILBOXES mailboxes (as inbound mail is): ours has that many extra virtual mailboxes (beside the
// sandbox's own, same 5,000 hash rounds), stock that many local users (useradd -m). Injection is
// Postfix's own smtp-source(1) on the host against 127.0.0.1:25, SESSIONS sessions in all: one
// smtp-source per recipient (it has one -t address; its -r puts several recipients in one
// transaction, -N a new one in each message), SESSIONS lanes running theirs one after the other,
// a new connection per message. Measured: accept (wall time of the injection) and end
// to end (until every message is a file in the mailboxes' Maildir/new). Lost messages: expected
// minus delivered, and what is left in the queue (a bounce or a deferred message stays there: the
// sender's domain does not resolve). The journal is not counted: journald's rate limit drops most
// of the log lines of a round. CPU per message of each systemd service on the host, from its
// cgroup's cpu.stat (usage_usec, after minus before; exited processes included): it shows where
// the difference between the hosts goes. ssh.service is smtp-source, the load itself.
// Rounds rotate which host goes first; the Maildirs are removed before each round. Then one
// round of all messages to ONE mailbox on each host (smtp-source -s SESSIONS): the worst case for
// ours (every LMTP delivery locks and re-syncs the same Maildir's dovecot-uidlist and index) and a
// throttled one for stock (local(8) delivers to one recipient at most 2 at a time:
// local_destination_concurrency_limit).
// Figures and the ratios of ours to each reference's throughput; asserts nothing.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as YAML from "yaml";
import { ProvisionedHost } from "../test/tools/provisioned";
import { Override, stackConfig } from "../test/tools/stack-run";
import { cannotBootHosts, ssh, sshOk, startHost, stopHost, TestHost } from "../test/tools/testhost";

const ROUNDS = 3;
const MESSAGES = 5000;
const WARMUP = 200;
const SESSIONS = 20;
/** Recipients of a round; a multiple of SESSIONS, dividing MESSAGES and WARMUP. */
const MAILBOXES = 100;
/** smtp-source -l: the body; its own headers add about 200 bytes. */
const BODY_BYTES = 4000;
/** End to end gives up when the Maildirs have not grown for this long. */
const STALL_SECONDS = 60;

const locals = Array.from({ length: MAILBOXES }, (_, i) => `bench${i}`);

interface Target {
  label: string;
  host: TestHost;
  domain: string;
  /** The Maildir of local part %s. */
  maildir: string;
}

interface Round {
  accept: number;
  endToEnd: number;
  delivered: number;
  queued: number;
  smtpErrors: string;
  /** CPU microseconds over the round per systemd service of the host. */
  cpu: Record<string, number>;
}

// Runs on the host as `bash -s N SESSIONS BYTES DOMAIN MAILDIR LOCAL...`, MAILDIR with %s for the
// local part. Times come from the host's clock, so SSH's own start-up is not counted.
const ROUND_SCRIPT = String.raw`
set -u
n=$1 sessions=$2 bytes=$3 domain=$4 pattern=$5
shift 5
users=("$@") k=$#
dirs=() news=()
for u in "${"$"}{users[@]}"; do d=${"$"}{pattern//%s/$u}; dirs+=("$d"); news+=("$d/new"); done
# CPU microseconds of each service so far: "name usec" per line (cgroup v2, or v1's unified tree).
cpu_snapshot() {
  local root=/sys/fs/cgroup/unified f n
  [[ -d $root/system.slice ]] || root=/sys/fs/cgroup
  for f in "$root"/system.slice/*.service/cpu.stat "$root"/system.slice/*/*.service/cpu.stat; do
    [[ -r $f ]] || continue
    n=${"$"}{f%/cpu.stat}
    awk -v n="${"$"}{n##*/}" '$1 == "usage_usec" { print n, $2 }' "$f"
  done | sort
}
count() { find "${"$"}{news[@]}" -type f 2>/dev/null | wc -l; }
rm -rf "${"$"}{dirs[@]}" /tmp/smtp-source.*.err
sync
c0=$(cpu_snapshot)
t0=$(date +%s.%N)
if ((k == 1)); then
  smtp-source -s "$sessions" -m "$n" -l "$bytes" -f bench-sender@sender.test -t "$users@$domain" -S bench 127.0.0.1:25 2>/tmp/smtp-source.0.err
else
  # Lane l sends to recipients l, l + sessions, ...: n / k messages each, one session at a time.
  for ((l = 0; l < sessions; l++)); do
    ( for ((i = l; i < k; i += sessions)); do
        smtp-source -s 1 -m $((n / k)) -l "$bytes" -f bench-sender@sender.test -t "${"$"}{users[i]}@$domain" -S bench 127.0.0.1:25
      done 2>"/tmp/smtp-source.$l.err" ) &
  done
  wait
fi
t1=$(date +%s.%N)
last=-1 still=$SECONDS c=0
while :; do
  c=$(count)
  ((c >= n)) && break
  if ((c != last)); then last=$c still=$SECONDS; elif ((SECONDS - still > ${STALL_SECONDS})); then break; fi
  sleep 0.1
done
t2=$(date +%s.%N)
c1=$(cpu_snapshot)
cur=0
for d in "${"$"}{dirs[@]}"; do [[ -d $d/cur ]] && cur=$((cur + $(ls -U "$d/cur" | wc -l))); done
sleep 1
echo "accept $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
echo "endToEnd $(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')"
echo "delivered $((c + cur))"
echo "queued $(postqueue -j 2>/dev/null | wc -l)"
echo "cpu $(join <(echo "$c0") <(echo "$c1") | awk '{ printf "%s=%d ", $1, $3 - $2 }')"
echo "smtpErrors $(cat /tmp/smtp-source.*.err | sort | uniq -c | sort -rn | head -3 | tr '\n' ';')"
`;

function round(t: Target, n: number, recipients: string[]): Round {
  const r = ssh(t.host, `bash -s ${n} ${SESSIONS} ${BODY_BYTES} ${t.domain} ${t.maildir} ${recipients.join(" ")}`, ROUND_SCRIPT, 30 * 60 * 1000);
  if (r.code !== 0) throw new Error(`round on ${t.label} exited ${r.code}: ${r.stderr}`);
  const v = Object.fromEntries(r.stdout.trim().split("\n").map((l) => /^(\S+) ?(.*)$/.exec(l)!.slice(1)));
  return {
    accept: Number(v.accept), endToEnd: Number(v.endToEnd), delivered: Number(v.delivered), queued: Number(v.queued),
    smtpErrors: v.smtpErrors.trim(),
    cpu: Object.fromEntries(v.cpu.trim().split(/\s+/).filter(Boolean).map((kv: string) => { const [k, n] = kv.split("="); return [k, Number(n)]; })),
  };
}

/** The sandbox's own mailboxes plus ours at `domain`, all with a password (never used to log in). */
function extraMailboxes(domain: string): Record<string, Override> {
  const all = [...(stackConfig("sandbox").mailboxes as string[]), ...locals.map((l) => `${l}@${domain}`)];
  return {
    "mailfleet:mailboxes": { value: JSON.stringify(all) },
    "mailfleet:mailboxPasswords": { value: YAML.stringify(Object.fromEntries(all.map((m) => [m, `bench-password-${m}`]))), secret: true },
  };
}

/** Stock Debian 12 Postfix as the installer leaves it ("Internet Site"), plus the Maildir users. */
function installStock(host: TestHost, domain: string): void {
  sshOk(host, [
    `echo 'postfix postfix/main_mailer_type select Internet Site' | debconf-set-selections`,
    `echo 'postfix postfix/mailname string ${host.fqdn}' | debconf-set-selections`,
    `DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq postfix >/dev/null`,
    `for u in ${locals.join(" ")}; do useradd -m $u; done`,
    `postconf -e home_mailbox=Maildir/ 'mydestination=$myhostname, ${domain}, localhost'`,
    `systemctl restart postfix`,
  ].join(" && "));
}

/**
 * The second reference: the stock host, and Debian's Dovecot delivering its local users' mail
 * over LMTP (Dovecot's own settings, with Maildir and a listener in Postfix's spool; the user
 * name without the domain, as the local users are system accounts).
 */
function installStockLmtp(host: TestHost, domain: string): void {
  installStock(host, domain);
  const conf = [
    "mail_location = maildir:~/Maildir",
    "auth_username_format = %Ln",
    "service lmtp {",
    "  unix_listener /var/spool/postfix/private/dovecot-lmtp {",
    "    mode = 0600",
    "    user = postfix",
    "    group = postfix",
    "  }",
    "}",
  ].join("\n");
  sshOk(host, [
    `DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq dovecot-core dovecot-lmtpd >/dev/null`,
    `printf '%s\\n' '${conf}' > /etc/dovecot/conf.d/99-bench.conf`,
    `systemctl restart dovecot`,
    `postconf -e local_transport=lmtp:unix:private/dovecot-lmtp`,
    `systemctl reload postfix`,
  ].join(" && "));
}

function rate(n: number, seconds: number): string {
  return `${(n / seconds).toFixed(0)} msg/s`;
}

/** A service's name as printed; ssh.service runs smtp-source, the load. */
function serviceLabel(unit: string): string {
  const name = unit.replace(/@-?\.service$|\.service$/, "");
  return name === "ssh" ? "smtp-source" : name === "systemd-journald" ? "journald" : name;
}

/** Per service, CPU milliseconds per message (those of 0.01 ms or more), and the mail services' sum. */
function cpuPerMessage(usec: Record<string, number>, messages: number): string {
  const ms = Object.entries(usec).map(([unit, u]) => [serviceLabel(unit), u / 1000 / messages] as const).filter(([, v]) => v >= 0.01).sort((a, b) => b[1] - a[1]);
  const mail = ms.filter(([name]) => name !== "smtp-source").reduce((a, [, v]) => a + v, 0);
  return `${mail.toFixed(2)} ms/msg in the host's services (${ms.map(([name, v]) => `${name} ${v.toFixed(2)}`).join(", ")})`;
}

/** The rounds' CPU use added up per service. */
function cpuSum(rs: Round[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const r of rs) for (const [k, v] of Object.entries(r.cpu)) sum[k] = (sum[k] ?? 0) + v;
  return sum;
}

function describe(label: string, r: Round): string {
  const lost = MESSAGES - r.delivered;
  const errors = r.smtpErrors ? `; smtp-source errors: ${r.smtpErrors}` : "";
  const cpu = `; CPU ${cpuPerMessage(r.cpu, MESSAGES)}`;
  return `${label.padEnd(5)} accept ${r.accept.toFixed(2)} s (${rate(MESSAGES, r.accept)}), end to end ${r.endToEnd.toFixed(2)} s (${rate(MESSAGES, r.endToEnd)}); ` +
    `delivered ${r.delivered}/${MESSAGES}, lost ${lost}, left in queue ${r.queued}${cpu}${errors}`;
}

function ratios(ours: Round[], stock: Round[]): string {
  const sum = (rs: Round[], key: "accept" | "endToEnd") => rs.reduce((a, r) => a + r[key], 0);
  return `accept x${(sum(stock, "accept") / sum(ours, "accept")).toFixed(2)}, end to end x${(sum(stock, "endToEnd") / sum(ours, "endToEnd")).toFixed(2)}`;
}

/**
 * The file system under the hosts' writable layers, as printed: both hosts share it, and what
 * creating a file costs differs between file systems (on ext4 without a journal, each new inode
 * skips the ones deleted in the last seconds, so a Maildir delivery's lock file costs more).
 */
function hostFileSystem(): string {
  const dir = process.env.MAILFLEET_TESTHOST_VAR ?? "/var/lib/mailfleet/hosts";
  const mount = spawnSync("findmnt", ["-n", "-o", "FSTYPE,SOURCE", "-T", dir], { encoding: "utf8" }).stdout.trim().split(/\s+/);
  if (mount[0] !== "ext4") return `${mount[0] ?? "unknown"} (${dir})`;
  // ext4's sysfs names the journal thread; "<none>" without a journal.
  const device = mount[1]?.replace(/^\/dev\//, "") ?? "";
  let journal = "unknown";
  try {
    journal = fs.readFileSync(`/sys/fs/ext4/${device}/journal_task`, "utf8").trim() === "<none>" ? "without" : "with";
  } catch {
    // not readable here: say so
  }
  return `ext4 ${journal === "unknown" ? "(journal unknown)" : `${journal} a journal`} (${dir} on ${mount[1]}; MAILFLEET_TESTHOST_VAR moves it)`;
}

function main(): void {
  const why = cannotBootHosts();
  if (why) throw new Error(`bench needs a real host: ${why}`);
  const domain = (stackConfig("sandbox").mailboxes as string[])[0].split("@")[1];
  let p: ProvisionedHost | undefined;
  const refs: TestHost[] = [];
  try {
    p = new ProvisionedHost("benchmail", 50, "sandbox", () => extraMailboxes(domain));
    if (p.first.code !== 0) throw new Error(`provisioning failed:\n${p.first.log.slice(-2000)}`);
    refs.push(startHost("benchstock", { fqdn: "stock.bench.test", index: 51 }));
    installStock(refs[0], domain);
    refs.push(startHost("benchlmtp", { fqdn: "lmtp.bench.test", index: 52 }));
    installStockLmtp(refs[1], domain);
    const ours: Target = { label: "ours", host: p.host, domain, maildir: `/var/vmail/${domain}/%s/Maildir` };
    const stock: Target = { label: "stock", host: refs[0], domain, maildir: "/home/%s/Maildir" };
    const lmtp: Target = { label: "lmtp", host: refs[1], domain, maildir: "/home/%s/Maildir" };
    const targets = [ours, stock, lmtp];
    console.log(`${MESSAGES} messages a round, ${BODY_BYTES}-byte bodies, ${SESSIONS} smtp-source sessions on each host to 127.0.0.1:25, ` +
      `spread over ${MAILBOXES} mailboxes (${locals[0]}..${locals[MAILBOXES - 1]}@${domain}); ours: mailfleet, LMTP to Dovecot; ` +
      `stock: local(8), home_mailbox = Maildir/; lmtp: stock Postfix, local_transport to stock Dovecot's LMTP; hosts' files: ${hostFileSystem()}`);
    for (const t of targets) round(t, WARMUP, locals);
    const results: Record<string, Round[]> = { ours: [], stock: [], lmtp: [] };
    const compare = (label: string, rs: (t: Target) => Round[]) => {
      for (const ref of [stock, lmtp]) console.log(`${label} ours/${ref.label} throughput: ${ratios(rs(ours), rs(ref))}`);
    };
    for (let i = 0; i < ROUNDS; i++) {
      for (const t of [...targets.slice(i % targets.length), ...targets.slice(0, i % targets.length)]) {
        const r = round(t, MESSAGES, locals);
        results[t.label].push(r);
        console.log(`round ${i + 1} ${describe(t.label, r)}`);
      }
      compare(`round ${i + 1}`, (t) => [results[t.label][i]]);
    }
    const lost = (rs: Round[]) => rs.reduce((a, r) => a + MESSAGES - r.delivered, 0);
    const total = ROUNDS * MESSAGES;
    compare("all rounds", (t) => results[t.label]);
    console.log(`lost: ${targets.map((t) => `${t.label} ${lost(results[t.label])} of ${total}`).join(", ")}`);
    for (const t of targets) console.log(`all rounds CPU, ${t.label}: ${cpuPerMessage(cpuSum(results[t.label]), total)}`);
    const single = Object.fromEntries(targets.map((t) => [t.label, round(t, MESSAGES, [locals[0]])]));
    for (const t of targets) console.log(`worst case, one mailbox: ${describe(t.label, single[t.label])}`);
    compare("worst case, one mailbox,", (t) => [single[t.label]]);
  } finally {
    // A host whose provisioning threw is still running under its name.
    if (p) p.stop();
    else stopHost("benchmail");
    stopHost("benchstock", "benchlmtp");
  }
}

main();
