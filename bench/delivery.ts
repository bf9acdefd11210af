// Benchmark: mail accepted on port 25 and delivered into Maildirs, on a mailfleet host (virtual
// mailboxes: Postfix -> LMTP -> Dovecot) against stock Debian 12 Postfix (local(8) into
// ~/Maildir/ of local users) on a second test host. Both run on this machine, one after the
// other, never at the same time.
//   node --import tsx bench/delivery.ts    (root; boots "benchmail" and "benchstock", removes them)
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
// of the log lines of a round. On ours, Dovecot's CPU per message: utime + stime of the live lmtp
// processes plus what the master has reaped from its children (/proc/PID/stat), after minus before.
// Rounds alternate which host goes first; the Maildirs are removed before each round. Then one
// round of all messages to ONE mailbox on each host (smtp-source -s SESSIONS): the worst case for
// ours (every LMTP delivery locks and re-syncs the same Maildir's dovecot-uidlist and index) and a
// throttled one for stock (local(8) delivers to one recipient at most 2 at a time:
// local_destination_concurrency_limit).
// Figures and the ratios ours / stock of throughput; asserts nothing.
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
  /** Dovecot CPU seconds over the round; NaN where no Dovecot runs. */
  dovecotCpu: number;
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
# Dovecot: live lmtp processes plus the master's reaped children, in clock ticks.
dovecot_ticks() {
  local m; m=$(pgrep -o -x dovecot) || { echo -1; return; }
  { awk '{ print $16 + $17 }' "/proc/$m/stat"
    for p in $(pgrep -x lmtp); do awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null; done; } | awk '{ s += $1 } END { print s }'
}
count() { find "${"$"}{news[@]}" -type f 2>/dev/null | wc -l; }
rm -rf "${"$"}{dirs[@]}" /tmp/smtp-source.*.err
sync
c0=$(dovecot_ticks)
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
c1=$(dovecot_ticks)
cur=0
for d in "${"$"}{dirs[@]}"; do [[ -d $d/cur ]] && cur=$((cur + $(ls -U "$d/cur" | wc -l))); done
sleep 1
echo "accept $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')"
echo "endToEnd $(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')"
echo "delivered $((c + cur))"
echo "queued $(postqueue -j 2>/dev/null | wc -l)"
echo "dovecotCpu $(awk -v a="$c0" -v b="$c1" -v hz="$(getconf CLK_TCK)" 'BEGIN { print a < 0 ? "NaN" : (b - a) / hz }')"
echo "smtpErrors $(cat /tmp/smtp-source.*.err | sort | uniq -c | sort -rn | head -3 | tr '\n' ';')"
`;

function round(t: Target, n: number, recipients: string[]): Round {
  const r = ssh(t.host, `bash -s ${n} ${SESSIONS} ${BODY_BYTES} ${t.domain} ${t.maildir} ${recipients.join(" ")}`, ROUND_SCRIPT, 30 * 60 * 1000);
  if (r.code !== 0) throw new Error(`round on ${t.label} exited ${r.code}: ${r.stderr}`);
  const v = Object.fromEntries(r.stdout.trim().split("\n").map((l) => /^(\S+) ?(.*)$/.exec(l)!.slice(1)));
  return {
    accept: Number(v.accept), endToEnd: Number(v.endToEnd), delivered: Number(v.delivered), queued: Number(v.queued),
    smtpErrors: v.smtpErrors.trim(), dovecotCpu: Number(v.dovecotCpu),
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

function rate(n: number, seconds: number): string {
  return `${(n / seconds).toFixed(0)} msg/s`;
}

function describe(label: string, r: Round): string {
  const lost = MESSAGES - r.delivered;
  const errors = r.smtpErrors ? `; smtp-source errors: ${r.smtpErrors}` : "";
  const cpu = Number.isNaN(r.dovecotCpu) ? "" : `; Dovecot CPU ${((r.dovecotCpu * 1000) / MESSAGES).toFixed(2)} ms/msg`;
  return `${label.padEnd(5)} accept ${r.accept.toFixed(2)} s (${rate(MESSAGES, r.accept)}), end to end ${r.endToEnd.toFixed(2)} s (${rate(MESSAGES, r.endToEnd)}); ` +
    `delivered ${r.delivered}/${MESSAGES}, lost ${lost}, left in queue ${r.queued}${cpu}${errors}`;
}

function ratios(ours: Round[], stock: Round[]): string {
  const sum = (rs: Round[], key: "accept" | "endToEnd") => rs.reduce((a, r) => a + r[key], 0);
  return `accept x${(sum(stock, "accept") / sum(ours, "accept")).toFixed(2)}, end to end x${(sum(stock, "endToEnd") / sum(ours, "endToEnd")).toFixed(2)}`;
}

function main(): void {
  const why = cannotBootHosts();
  if (why) throw new Error(`bench needs a real host: ${why}`);
  const domain = (stackConfig("sandbox").mailboxes as string[])[0].split("@")[1];
  let p: ProvisionedHost | undefined;
  let stock: TestHost | undefined;
  try {
    p = new ProvisionedHost("benchmail", 50, "sandbox", () => extraMailboxes(domain));
    if (p.first.code !== 0) throw new Error(`provisioning failed:\n${p.first.log.slice(-2000)}`);
    stock = startHost("benchstock", { fqdn: "stock.bench.test", index: 51 });
    installStock(stock, domain);
    const ours: Target = { label: "ours", host: p.host, domain, maildir: `/var/vmail/${domain}/%s/Maildir` };
    const theirs: Target = { label: "stock", host: stock, domain, maildir: "/home/%s/Maildir" };
    console.log(`${MESSAGES} messages a round, ${BODY_BYTES}-byte bodies, ${SESSIONS} smtp-source sessions on each host to 127.0.0.1:25, ` +
      `spread over ${MAILBOXES} mailboxes (${locals[0]}..${locals[MAILBOXES - 1]}@${domain}); ours: LMTP to Dovecot, stock: local(8), home_mailbox = Maildir/`);
    for (const t of [ours, theirs]) round(t, WARMUP, locals);
    const results: Record<string, Round[]> = { ours: [], stock: [] };
    for (let i = 0; i < ROUNDS; i++) {
      const order = i % 2 === 0 ? [ours, theirs] : [theirs, ours];
      for (const t of order) {
        const r = round(t, MESSAGES, locals);
        results[t.label].push(r);
        console.log(`round ${i + 1} ${describe(t.label, r)}`);
      }
      console.log(`round ${i + 1} ours/stock throughput: ${ratios([results.ours[i]], [results.stock[i]])}`);
    }
    const lost = (rs: Round[]) => rs.reduce((a, r) => a + MESSAGES - r.delivered, 0);
    const total = ROUNDS * MESSAGES;
    console.log(`all rounds ours/stock throughput: ${ratios(results.ours, results.stock)}; ` +
      `lost: ours ${lost(results.ours)} of ${total}, stock ${lost(results.stock)} of ${total}`);
    const single = Object.fromEntries([ours, theirs].map((t) => [t.label, round(t, MESSAGES, [locals[0]])]));
    for (const t of [ours, theirs]) console.log(`worst case, one mailbox: ${describe(t.label, single[t.label])}`);
    console.log(`worst case, one mailbox, ours/stock throughput: ${ratios([single.ours], [single.stock])}`);
  } finally {
    // A host whose provisioning threw is still running under its name.
    if (p) p.stop();
    else stopHost("benchmail");
    if (stock) stopHost(stock.name);
  }
}

main();
