// Mail policy end to end (issue 3), on a real Debian 12 host provisioned from the sandbox stack
// by the engine double, probed from outside its mynetworks over IPv4 and IPv6, plus a second
// test host running Postfix as the provider's smarthost.
// Proves: the open-relay probe set of docs/relay-probes.md is refused on 25 and on 587 without
// AUTH; header privacy on the submission path only; hop-count loop protection intact; blocklists
// answer with the operator's text after one `up` without a restart; read receipts are discarded
// and bounces pass; SMTP smuggling and pipelining before the greeting fail; the queue cleanup
// removes exactly the deferred bounces; a smarthost requiring AUTH and TLS carries outbound mail.
// Does not prove: DNSBL/postscreen behaviour (no DNS here; rendering is checked in test/unit) or
// delivery across the Internet.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { lastReply, swaks, waitFor } from "../tools/probe";
import { ProvisionedHost } from "../tools/provisioned";
import { lastLine, SmtpSession } from "../tools/smtp";
import { Override } from "../tools/stack-run";
import { cannotBootHosts, ssh, sshOk, startHost, stopHost, TestHost } from "../tools/testhost";

const STACK = "sandbox";
const why = cannotBootHosts();
if (why && process.env.MAILFLEET_E2E === "require") throw new Error(`end-to-end tests cannot run: ${why}`);

describe("mail policy on a provisioned host", { skip: why }, () => {
  let p: ProvisionedHost;
  let mx: TestHost;
  let provider: TestHost;
  let hostname: string;
  let passwords: Record<string, string>;
  const relayPassword = `relay-${Math.random().toString(36).slice(2)}-pw`;
  const up = (extra: Record<string, Override> = {}) => p.up(extra);
  const headerBlock = (message: string) => message.split(/\r?\n\r?\n/)[0];
  const postfixPid = () => sshOk(mx, "systemctl show -p MainPID --value postfix@-").trim();

  before(() => {
    provider = startHost("provider", { fqdn: "smtp.provider.test", index: 34 });
    sshOk(provider, "umask 077; cat >/root/relay-password", relayPassword);
    sshOk(provider, "bash -s", fs.readFileSync(path.join(__dirname, "provider-setup.sh"), "utf8"));
    p = new ProvisionedHost("policy", 33, STACK);
    ({ host: mx, hostname, passwords } = p);
  });

  after(() => {
    p?.stop();
    stopHost("provider");
  });

  it("provisions the host", () => {
    assert.equal(p.first.code, 0, p.first.log);
  });

  // docs/relay-probes.md, with this host's names: expected replies as observed on Postfix 3.7,
  // the sender rows refused by reject_non_fqdn_sender before relay control is reached.
  const relayProbes = (literal: string): Array<[string, string, string, RegExp]> => [
    ["1 plain relay", "<spamtest@probe.example>", "<victim@external.test>", /^554 5\.7\.1 <victim@external\.test>: Relay access denied$/],
    ["2 null sender", "<>", "<victim@external.test>", /^554 5\.7\.1 <victim@external\.test>: Relay access denied$/],
    ["3 unqualified sender", "<spamtest>", "<victim@external.test>", /^504 5\.5\.2 <spamtest>: Sender address rejected: need fully-qualified address$/],
    ["4 localhost sender", "<spamtest@localhost>", "<victim@external.test>", /^504 5\.5\.2 <spamtest@localhost>: Sender address rejected: need fully-qualified address$/],
    ["5 our IP-literal sender", `<spamtest@${literal}>`, "<victim@external.test>", /^554 5\.7\.1 <victim@external\.test>: Relay access denied$/],
    ["6 spoofed hosted sender", "<alice@example.test>", "<victim@external.test>", /^554 5\.7\.1 <victim@external\.test>: Relay access denied$/],
    ["7 spoofed local sender", `<postmaster@${hostname}>`, "<victim@external.test>", /^554 5\.7\.1 <victim@external\.test>: Relay access denied$/],
    ["8 sender = recipient", "<victim@external.test>", "<victim@external.test>", /^554 5\.7\.1 <victim@external\.test>: Relay access denied$/],
    ["9 percent hack via our host", "<spamtest@probe.example>", `<victim%external.test@${hostname}>`, /^554 5\.7\.1 <victim%external\.test@mail\.mailfleet\.test>: Relay access denied$/],
    ["10 percent hack via hosted domain", "<spamtest@probe.example>", "<victim%external.test@example.test>", /^554 5\.7\.1 <victim%external\.test@example\.test>: Relay access denied$/],
    ["11 percent hack via our IP literal", "<spamtest@probe.example>", `<victim%external.test@${literal}>`, /^554 5\.7\.1 .*: Relay access denied$/],
    ["12 percent hack, no domain", "<spamtest@probe.example>", "<victim%external.test>", /^554 5\.7\.1 <victim%external\.test>: Relay access denied$/],
    ["13 double @", "<spamtest@probe.example>", `<victim@external.test@${hostname}>`, /^554 5\.7\.1 .*: Relay access denied$/],
    ["14 quoted local part", "<spamtest@probe.example>", '<"victim@external.test">', /^554 5\.7\.1 <victim@external\.test>: Relay access denied$/],
    ["15 quoted local part @ our host", "<spamtest@probe.example>", `<"victim@external.test"@${hostname}>`, /^554 5\.7\.1 <victim@external\.test@mail\.mailfleet\.test>: Relay access denied$/],
    ["16 quoted percent @ our host", "<spamtest@probe.example>", `<"victim%external.test"@${hostname}>`, /^554 5\.7\.1 .*: Relay access denied$/],
    ["17 quoted local part @ hosted domain", "<spamtest@probe.example>", '<"victim@external.test"@example.test>', /^554 5\.7\.1 <victim@external\.test@example\.test>: Relay access denied$/],
    ["18 source route via our host", "<spamtest@probe.example>", `<@${hostname}:victim@external.test>`, /^554 5\.7\.1 <victim@external\.test>: Relay access denied$/],
    // (over IPv6 Postfix keeps part of the colon-bearing literal in the address it reports)
    ["19 source route via our IP", "<spamtest@probe.example>", `<@${literal}:victim@external.test>`, /^554 5\.7\.1 <(fd[0-9a-f:]+\]:)?victim@external\.test>: Relay access denied$/],
    ["20 bang path", "<spamtest@probe.example>", "<external.test!victim>", /^554 5\.7\.1 <external\.test!victim>: Relay access denied$/],
    ["21 bang path @ our host", "<spamtest@probe.example>", `<external.test!victim@${hostname}>`, /^554 5\.7\.1 .*: Relay access denied$/],
    ["22 bang path @ hosted domain", "<spamtest@probe.example>", "<external.test!victim@example.test>", /^554 5\.7\.1 .*: Relay access denied$/],
    ["23 bang path @ our IP literal", "<spamtest@probe.example>", `<external.test!victim@${literal}>`, /^554 5\.7\.1 .*: Relay access denied$/],
    ["24 external IP literal", "<spamtest@probe.example>", "<victim@[198.51.100.20]>", /^554 5\.7\.1 <victim@\[198\.51\.100\.20\]>: Relay access denied$/],
    ["25 unbracketed IP domain", "<spamtest@probe.example>", "<victim@198.51.100.20>", /^501 5\.1\.3 Bad recipient address syntax$/],
    ["26 trailing-dot domain", "<spamtest@probe.example>", "<victim@external.test.>", /^554 5\.7\.1 <victim@external\.test\.>: Relay access denied$/],
    ["27 mixed case", "<spamtest@probe.example>", "<Victim@EXTERNAL.Test>", /^554 5\.7\.1 .*: Relay access denied$/],
    ["28 subdomain of hosted domain", "<spamtest@probe.example>", "<victim@sub.example.test>", /^554 5\.7\.1 <victim@sub\.example\.test>: Relay access denied$/],
    ["29 localhost recipient", "<spamtest@probe.example>", "<root@localhost>", /^504 5\.5\.2 <root@localhost>: Recipient address rejected: need fully-qualified address$/],
  ];

  /** Runs MAIL/RCPT pairs, a fresh connection every 10 (smtpd_hard_error_limit is 20). */
  async function probe(server: string, port: number, pairs: Array<[string, string]>, tls = false): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < pairs.length; i += 10) {
      const s = await SmtpSession.connect(server, port);
      assert.match(await s.reply(), /^220 /);
      await s.command("EHLO mx.external.test");
      if (tls) {
        await s.starttls(hostname, fs.readFileSync(p.imap.caFile, "utf8"));
        await s.command("EHLO mx.external.test");
      }
      for (const [from, to] of pairs.slice(i, i + 10)) {
        const mail = await s.command(`MAIL FROM:${from}`);
        assert.match(mail, /^250 /, `MAIL FROM:${from} -> ${mail}`);
        out.push(lastLine(await s.command(`RCPT TO:${to}`)));
        await s.command("RSET");
      }
      s.close();
    }
    return out;
  }

  for (const family of ["IPv4", "IPv6"] as const) {
    it(`refuses every Appendix A relay probe on port 25 over ${family}`, async () => {
      const server = family === "IPv4" ? mx.ipv4 : mx.ipv6;
      const literal = family === "IPv4" ? `[${mx.ipv4}]` : `[IPv6:${mx.ipv6}]`;
      const probes = relayProbes(literal);
      const replies = await probe(server, 25, probes.map(([, from, to]) => [from, to]));
      probes.forEach(([name, , , expected], i) => assert.match(replies[i], expected, `probe ${name}`));
    });

    it(`refuses the same probes on 587 without AUTH over ${family}, and answers the controls`, async () => {
      const server = family === "IPv4" ? mx.ipv4 : mx.ipv6;
      const probes = relayProbes(family === "IPv4" ? `[${mx.ipv4}]` : `[IPv6:${mx.ipv6}]`);
      const replies = await probe(server, 587, probes.map(([, from, to]) => [from, to]), true);
      for (const [i, r] of replies.entries()) assert.match(r, /^5\d\d /, `587 probe ${probes[i][0]}: ${r}`);
      assert.ok(replies.filter((r) => /Client host rejected: Access denied$/.test(r)).length >= 25, replies.join("\n"));
      const [c1, c2] = await probe(server, 25, [["<someone@external.test>", "<alice@example.test>"], ["<someone@external.test>", "<nosuchuser@example.test>"]]);
      assert.equal(c1, "250 2.1.5 Ok");
      assert.equal(c2, "550 5.1.1 <nosuchuser@example.test>: Recipient address rejected: User unknown in virtual mailbox table");
      const c3 = swaks(["--server", server, "--port", "587", "--tls", "--tls-verify", "--tls-ca-path", p.imap.caFile, "--tls-sni", hostname,
        "--auth", "PLAIN", "--auth-user", "alice@example.test", "--auth-password", passwords["alice@example.test"],
        "--from", "alice@example.test", "--to", "victim@external.test", "--quit-after", "RCPT"]);
      assert.equal(lastReply(c3), "250 2.1.5 Ok", c3.raw);
    });
  }

  it("removes the client's IP and identifying headers from mail submitted on 587", async () => {
    const r = p.submitMessage("alice@example.test", "bob@example.test", [
      "From: alice@example.test", "To: bob@example.test", "Subject: privacy-587", "X-Mailer: SuperMailer 1.0",
      "X-Originating-IP: [203.0.113.9]", "User-Agent: Thunderbird/115", "Disposition-Notification-To: alice@example.test", "", "hello", "",
    ].join("\n"));
    assert.match(lastReply(r), /^250 2\.0\.0 Ok: queued as /, r.raw);
    const headers = headerBlock(await p.fetch("bob@example.test", "privacy-587"));
    for (const leak of [mx.gateway4, mx.gateway6, "203.0.113.9", "ESMTPSA", "X-Mailer", "X-Originating-IP", "User-Agent", "Disposition-Notification-To"]) {
      assert.ok(!headers.includes(leak), `${leak} is still in the headers:\n${headers}`);
    }
    assert.match(headers, /^Subject: privacy-587$/m);
  });

  it("removes X-PHP-Originating-Script from mail sent with sendmail on the host", async () => {
    sshOk(mx, "/usr/sbin/sendmail -f alice@example.test bob@example.test", "Subject: privacy-sendmail\nX-PHP-Originating-Script: 33:contact.php\n\nfrom a web app\n");
    const headers = headerBlock(await p.fetch("bob@example.test", "privacy-sendmail"));
    assert.doesNotMatch(headers, /X-PHP-Originating-Script/);
  });

  it("keeps the Received chain of inbound mail on 25 and of forwarded attachments", async () => {
    const inbound = swaks(["--server", mx.ipv4, "--port", "25", "--ehlo", "mx.external.test", "--from", "someone@external.test", "--to", "bob@example.test",
      "--add-header", "Received: from origin.external.test by mx.external.test with ESMTPSA id 1;", "--add-header", "X-Mailer: Remote 2.0",
      "--header", "Subject: inbound-trace"]);
    assert.match(lastReply(inbound), /^250 2\.0\.0 Ok: queued as /, inbound.raw);
    const headers = headerBlock(await p.fetch("bob@example.test", "inbound-trace"));
    assert.match(headers, /^Received: from origin\.external\.test by mx\.external\.test with ESMTPSA id 1;/m);
    // (the client's name is whatever its PTR says; on the test bridge /etc/hosts names it)
    assert.match(headers, new RegExp(`^Received: from mx\\.external\\.test \\([^)]*\\[${mx.gateway4.replace(/\./g, "\\.")}\\]\\)`, "m"));
    assert.match(headers, /^X-Mailer: Remote 2\.0$/m);

    const boundary = "mf-boundary";
    const r = p.submitMessage("alice@example.test", "bob@example.test", [
      "From: alice@example.test", "To: bob@example.test", "Subject: forwarded-attachment", "MIME-Version: 1.0",
      `Content-Type: multipart/mixed; boundary="${boundary}"`, "", `--${boundary}`, "Content-Type: text/plain", "", "see attached", "",
      `--${boundary}`, "Content-Type: message/rfc822", "", "Received: from inner.example by relay.example with ESMTPSA id 9;",
      "X-Mailer: InnerMailer 3", "Subject: the original", "", "original body", "", `--${boundary}--`, "",
    ].join("\n"));
    assert.match(lastReply(r), /^250 2\.0\.0 Ok: queued as /, r.raw);
    const message = await p.fetch("bob@example.test", "forwarded-attachment");
    assert.match(message, /^X-Mailer: InnerMailer 3\r?$/m);
    assert.match(message, /^Received: from inner\.example by relay\.example with ESMTPSA id 9;/m);
  });

  it("still refuses a message with 61 Received headers as too many hops, on 25 and on 587", async () => {
    const hops = Array.from({ length: 61 }, (_, i) => `Received: from hop${i}.external.test by hop${i + 1}.external.test with ESMTP id ${i};`);
    const s = await SmtpSession.connect(mx.ipv4, 25);
    await s.reply();
    await s.command("EHLO mx.external.test");
    await s.command("MAIL FROM:<someone@external.test>");
    assert.equal(lastLine(await s.command("RCPT TO:<bob@example.test>")), "250 2.1.5 Ok");
    assert.match(await s.command("DATA"), /^354 /);
    s.write(`${hops.join("\r\n")}\r\nSubject: loop-25\r\n\r\nloop\r\n.\r\n`);
    assert.equal(await s.reply(), "554 5.4.0 Error: too many hops");
    s.close();
    const r = p.submitMessage("alice@example.test", "bob@example.test", `${hops.join("\n")}\nSubject: loop-587\n\nloop\n`);
    assert.match(r.raw, /554 5\.4\.0 Error: too many hops/);
  });

  it("discards a user's read receipt (MDN) and lets a delivery status notification pass", async () => {
    const report = (kind: string, subject: string) => [
      "From: alice@example.test", "To: bob@example.test", `Subject: ${subject}`, "MIME-Version: 1.0",
      `Content-Type: multipart/report; report-type=${kind};`, '\tboundary="rb"', "", "--rb", "Content-Type: text/plain", "", "report", "", "--rb--", "",
    ].join("\n");
    assert.match(lastReply(p.submitMessage("alice@example.test", "bob@example.test", report("disposition-notification", "receipt-mdn"))), /^250 /);
    assert.match(lastReply(p.submitMessage("alice@example.test", "bob@example.test", report("delivery-status", "receipt-dsn"))), /^250 /);
    await p.waitInbox("bob@example.test", "receipt-dsn");
    await waitFor("the MDN discard in the log", () =>
      /discard: header Content-Type: multipart\/report;.*outbound read receipt \(MDN\) suppressed/.test(sshOk(mx, "journalctl -q --no-pager -u postfix@- | grep discard: || true")) || undefined);
    assert.equal(p.search("bob@example.test", "receipt-mdn").length, 0);
  });

  it("refuses a blocked list and sender at RCPT with the configured text", async () => {
    const [list, sub, spammer] = await probe(mx.ipv4, 25, [
      ["<list-bounces@hacked-list.example>", "<alice@example.test>"],
      ["<list-bounces+x=y@lists.hacked-list.example>", "<alice@example.test>"],
      ["<spammer@bad.example>", "<alice@example.test>"],
    ]);
    assert.equal(list, "554 5.7.1 <list-bounces@hacked-list.example>: Sender address rejected: Mail from this list is refused: list compromised, unsubscribe requests ignored");
    assert.match(sub, /^554 5\.7\.1 <list-bounces\+x=y@lists\.hacked-list\.example>: Sender address rejected: Mail from this list is refused/);
    assert.equal(spammer, "550 5.7.1 <spammer@bad.example>: Sender address rejected: Sender blocked by postmaster");
  });

  it("blocks a client network within one up, without a restart", async () => {
    const pid = postfixPid();
    const blocked = up({ "mailfleet:blockedClients": { value: JSON.stringify([`${mx.gateway6}/128: Your network is blocked by postmaster`]) } });
    assert.equal(blocked.code, 0, blocked.log);
    assert.deepEqual(blocked.summary.operations.filter((o) => o.op !== "same").map((o) => o.name), ["mail-postfix-config"]);
    const [v6] = await probe(mx.ipv6, 25, [["<someone@external.test>", "<alice@example.test>"]]);
    assert.equal(v6, `554 5.7.1 <unknown[${mx.gateway6}]>: Client host rejected: Your network is blocked by postmaster`);
    const [v4] = await probe(mx.ipv4, 25, [["<someone@external.test>", "<alice@example.test>"]]);
    assert.equal(v4, "250 2.1.5 Ok");
    assert.equal(postfixPid(), pid);
    assert.equal(up().code, 0);
    const [again] = await probe(mx.ipv6, 25, [["<someone@external.test>", "<alice@example.test>"]]);
    assert.equal(again, "250 2.1.5 Ok");
  });

  it("yields exactly one message for each bare-LF end-of-data variant (no SMTP smuggling)", async () => {
    // Labels that are not substrings of each other: IMAP SEARCH SUBJECT matches substrings.
    const variants: Array<[string, string]> = [["v1", "\n.\n"], ["v2", "\r\n.\n"], ["v3", "\n.\r\n"], ["v4", "\r.\r"]];
    for (const [label, eod] of variants) {
      const s = await SmtpSession.connect(mx.ipv4, 25);
      await s.reply();
      await s.command("EHLO mx.external.test");
      await s.command("MAIL FROM:<someone@external.test>");
      await s.command("RCPT TO:<carol@example.org>");
      await s.command("DATA");
      s.write(`Subject: outer-${label}\r\n\r\nbody${eod}MAIL FROM:<smuggler@external.test>\r\nRCPT TO:<carol@example.org>\r\nDATA\r\nSubject: smuggled-${label}\r\n\r\nx\r\n.\r\n`);
      assert.match(await s.reply(), /^250 2\.0\.0 Ok: queued as /);
      assert.equal(await s.command("QUIT"), "221 2.0.0 Bye", `a second reply is pending after ${label}: smuggled commands were executed`);
      s.close();
    }
    for (const [label] of variants) {
      assert.equal((await p.waitInbox("carol@example.org", `outer-${label}`)).length, 1);
      assert.equal(p.search("carol@example.org", `smuggled-${label}`).length, 0);
    }
  });

  it("refuses commands pipelined before the greeting", async () => {
    // Written at once, right after connecting: smtpd refuses before its greeting when the bytes
    // are already there, or at EHLO when the greeting won the race; either way nothing is accepted.
    for (let attempt = 0; attempt < 5; attempt++) {
      const s = await SmtpSession.connect(mx.ipv4, 25);
      s.write("EHLO mx.external.test\r\nMAIL FROM:<someone@external.test>\r\nRCPT TO:<alice@example.test>\r\n");
      const replies: string[] = [];
      for (let r = await s.reply(); r !== ""; r = await s.reply()) replies.push(lastLine(r));
      s.close();
      assert.ok(replies.includes("554 5.5.0 Error: SMTP protocol synchronization"), replies.join(" | "));
      assert.deepEqual(replies.filter((r) => r.startsWith("250")), [], replies.join(" | "));
    }
  });

  it("removes exactly the deferred MAILER-DAEMON bounces with mailfleet-queue-cleanup", async () => {
    // No DNS and no smarthost yet: mail to other domains stays deferred.
    const send = (from: string, to: string) => sshOk(mx, `/usr/sbin/sendmail -f '${from}' ${to}`, `Subject: queue-${to}\n\nx\n`);
    send("<>", "bounce-a@nowhere.test");
    send("<>", "bounce-b@nowhere.test");
    send("<>", "bounce-held@nowhere.test");
    send("alice@example.test", "someone@nowhere.test");
    const queue = () => sshOk(mx, "postqueue -j").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as { queue_id: string; queue_name: string; sender: string; recipients: Array<{ address: string }> });
    await waitFor("4 deferred messages", () => (queue().filter((m) => m.queue_name === "deferred").length === 4 ? true : undefined), 60);
    const held = queue().find((m) => m.recipients[0].address === "bounce-held@nowhere.test")!;
    sshOk(mx, `postsuper -h ${held.queue_id}`);
    const out = sshOk(mx, "/usr/local/sbin/mailfleet-queue-cleanup");
    assert.match(out, /Deleted: 2 messages/);
    const left = queue().map((m) => `${m.queue_name} ${m.sender} ${m.recipients[0].address}`).sort();
    assert.deepEqual(left, ["deferred alice@example.test someone@nowhere.test", "hold MAILER-DAEMON bounce-held@nowhere.test"]);
    assert.equal(sshOk(mx, "/usr/local/sbin/mailfleet-queue-cleanup").trim(), "no deferred MAILER-DAEMON messages");
    sshOk(mx, "postsuper -d ALL 2>/dev/null");
    assert.equal(sshOk(mx, "postconf -h bounce_queue_lifetime").trim(), "1d");
  });

  it("installs and removes the daily cleanup timer", () => {
    const on = up({ "mailfleet:queueCleanupTimer": { value: "true" } });
    assert.equal(on.code, 0, on.log);
    assert.deepEqual(on.summary.operations.filter((o) => o.op !== "same").map((o) => `${o.op} ${o.name}`), ["create mail-postfix-queue-cleanup-timer"]);
    assert.equal(sshOk(mx, "systemctl is-enabled mailfleet-queue-cleanup.timer").trim(), "enabled");
    const off = up();
    assert.deepEqual(off.summary.operations.filter((o) => o.op !== "same").map((o) => `${o.op} ${o.name}`), ["delete mail-postfix-queue-cleanup-timer"]);
    assert.notEqual(ssh(mx, "systemctl is-enabled mailfleet-queue-cleanup.timer").code, 0);
    assert.equal(ssh(mx, "test -e /etc/systemd/system/mailfleet-queue-cleanup.timer").code, 1);
  });

  it("offers AUTH on 25 only when opted in, only after STARTTLS, and limits AUTH per client", () => {
    const r = up({ "mailfleet:allowAuthOnPort25": { value: "true" }, "mailfleet:smtpInboundTlsMinimum": { value: "TLSv1.2" }, "mailfleet:authRateLimitPerMinute": { value: "4" } });
    assert.equal(r.code, 0, r.log);
    const plain = swaks(["--server", mx.ipv4, "--port", "25", "--ehlo", "mx.external.test", "--quit-after", "EHLO"]);
    assert.ok(!plain.replies.some((l) => /AUTH/.test(l)), plain.raw);
    const login = () => lastReply(swaks(["--server", mx.ipv4, "--port", "25", "--ehlo", "mx.external.test", "--tls", "--auth", "PLAIN",
      "--auth-user", "alice@example.test", "--auth-password", passwords["alice@example.test"], "--quit-after", "AUTH"]));
    const replies = [login(), login(), login(), login(), login()];
    assert.equal(replies.filter((x) => x === "235 2.7.0 Authentication successful").length, 4, replies.join(" | "));
    assert.equal(replies[4], `450 4.7.1 Error: too many AUTH commands from ${mx.gateway4}`);
    // Over IPv6: another client address, not yet at its AUTH limit.
    const spoof = lastReply(swaks(["--server", mx.ipv6, "--port", "25", "--ehlo", "mx.external.test", "--tls", "--auth", "PLAIN",
      "--auth-user", "bob@example.test", "--auth-password", passwords["bob@example.test"], "--from", "carol@example.org", "--to", "alice@example.test", "--quit-after", "RCPT"]));
    assert.equal(spoof, "553 5.7.1 <carol@example.org>: Sender address rejected: not owned by user bob@example.test");
    // A laptop says "EHLO laptop": refused for an anonymous client, accepted once it authenticated.
    const laptop = (auth: string[]) => lastReply(swaks(["--server", mx.ipv6, "--port", "25", "--ehlo", "laptop", "--tls", ...auth,
      "--from", "bob@example.test", "--to", "alice@example.test", "--quit-after", "RCPT"]));
    assert.match(laptop([]), /^504 5\.5\.2 <laptop>: Helo command rejected: need fully-qualified hostname$/);
    assert.equal(laptop(["--auth", "PLAIN", "--auth-user", "bob@example.test", "--auth-password", passwords["bob@example.test"]]), "250 2.1.5 Ok");
    assert.equal(up().code, 0);
    const off = swaks(["--server", mx.ipv4, "--port", "25", "--ehlo", "mx.external.test", "--tls", "--quit-after", "EHLO"]);
    assert.ok(!off.replies.some((l) => /AUTH/.test(l)), off.raw);
  });

  it("relays outbound mail through a smarthost that requires AUTH, over TLS", async () => {
    const relay = {
      "mailfleet:relayHost": { value: `[${provider.ipv4}]:587` },
      "mailfleet:relayHostUsername": { value: "relayuser" },
      "mailfleet:relayHostPassword": { value: relayPassword, secret: true },
    };
    const r = up(relay);
    assert.equal(r.code, 0, r.log);
    assert.deepEqual(r.summary.operations.filter((o) => o.op !== "same").map((o) => `${o.op} ${o.name}`).sort(),
      ["create mail-postfix-smarthost-credentials", "update mail-postfix-config"]);
    assert.ok(!r.log.includes(relayPassword) && !JSON.stringify(r.summary).includes(relayPassword));
    assert.equal(sshOk(mx, "stat -c '%U:%G %a' /etc/postfix/sasl_passwd /etc/postfix/sasl_passwd.db"), "root:root 600\nroot:root 600\n");
    const d = p.submitMessage("alice@example.test", "victim@external.test", "From: alice@example.test\nTo: victim@external.test\nSubject: via-smarthost\n\nhello provider\n");
    assert.match(lastReply(d), /^250 2\.0\.0 Ok: queued as /, d.raw);
    await waitFor("the message in the provider's mailbox", () => (/Subject: via-smarthost/.test(sshOk(provider, "cat /var/mail/victim 2>/dev/null || true")) ? true : undefined), 30);
    assert.match(sshOk(provider, "journalctl -q --no-pager -u postfix@-"), /postfix\/submission\/smtpd\[\d+\]: [0-9A-Za-z]+: client=[^,]+, sasl_method=PLAIN, sasl_username=relayuser/);
    assert.match(sshOk(mx, "journalctl -q --no-pager -u postfix@-"), new RegExp(`to=<victim@external\\.test>, relay=${provider.ipv4.replace(/\./g, "\\.")}\\[${provider.ipv4.replace(/\./g, "\\.")}\\]:587, .*status=sent`));
    assert.match(sshOk(mx, "journalctl -q --no-pager -u postfix@-"), new RegExp(`Trusted TLS connection established to ${provider.ipv4.replace(/\./g, "\\.")}|TLS connection established to ${provider.ipv4.replace(/\./g, "\\.")}`));
    const again = up(relay);
    assert.deepEqual([...new Set(again.summary.operations.map((o) => o.op))], ["same"]);
    assert.equal(again.summary.sshSessions, 0);
  });
  it("verifies a named smarthost's certificate against the system CAs and never logs in to an impostor", async () => {
    // A resolver for the test network (dnsmasq on this machine's bridge address, answering only
    // for the provider's name) and a test CA the mail host trusts like a public one.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailfleet-ca-"));
    const dns = spawn("dnsmasq", ["--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces",
      `--listen-address=${mx.gateway4}`, `--address=/smtp.provider.test/${provider.ipv4}`, `--address=/smtp.provider.test/${provider.ipv6}`,
      "--log-facility=-", "--user=root"], { stdio: "ignore" });
    try {
      const openssl = (...args: string[]) => {
        const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
      };
      openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mailfleet test CA", "-keyout", "ca.key", "-out", "ca.crt");
      openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=smtp.provider.test", "-keyout", "p.key", "-out", "p.csr");
      fs.writeFileSync(path.join(dir, "san.cnf"), "subjectAltName=DNS:smtp.provider.test\n");
      openssl("x509", "-req", "-in", "p.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.cnf", "-out", "p.crt");
      sshOk(mx, "cat >/usr/local/share/ca-certificates/mailfleet-test-ca.crt && update-ca-certificates >/dev/null", fs.readFileSync(path.join(dir, "ca.crt"), "utf8"));
      // Debian's postfix copies resolv.conf into its chroot when it starts.
      sshOk(mx, `echo 'nameserver ${mx.gateway4}' >/etc/resolv.conf && systemctl restart postfix@-`);
      const relay = {
        "mailfleet:relayHost": { value: "smtp.provider.test:587" },
        "mailfleet:relayHostUsername": { value: "relayuser" },
        "mailfleet:relayHostPassword": { value: relayPassword, secret: true },
      };
      assert.equal(up(relay).code, 0);
      assert.equal(sshOk(mx, "postmap -q '[smtp.provider.test]:587' hash:/etc/postfix/tls_policy").trim(), "secure match=smtp.provider.test");
      const aBefore = Number(sshOk(provider, "journalctl -q --no-pager -u postfix@- | grep -c 'sasl_username=relayuser' || true").trim());

      // The provider still presents its self-signed certificate: the mail waits, the password stays home.
      const impostor = p.submitMessage("alice@example.test", "victim@external.test", "From: alice@example.test\nTo: victim@external.test\nSubject: to-impostor\n\nx\n");
      assert.match(lastReply(impostor), /^250 2\.0\.0 Ok: queued as /, impostor.raw);
      await waitFor("the deferral for an unverified certificate", () =>
        /to=<victim@external\.test>, relay=smtp\.provider\.test\[[^\]]+\]:587, .*status=deferred \(Server certificate not verified\)/.test(sshOk(mx, "journalctl -q --no-pager -u postfix@-")) ? true : undefined, 30);
      assert.equal(Number(sshOk(provider, "journalctl -q --no-pager -u postfix@- | grep -c 'sasl_username=relayuser' || true").trim()), aBefore, "logged in to an unverified server");

      // The CA-signed certificate for the name: the queued mail leaves over verified TLS.
      sshOk(provider, "cat >/etc/ssl/private/provider.key && chmod 600 /etc/ssl/private/provider.key", fs.readFileSync(path.join(dir, "p.key"), "utf8"));
      sshOk(provider, "cat >/etc/ssl/certs/provider.crt && postfix reload", fs.readFileSync(path.join(dir, "p.crt"), "utf8"));
      sshOk(mx, "postqueue -f");
      await waitFor("the message at the provider", () => (/Subject: to-impostor/.test(sshOk(provider, "cat /var/mail/victim 2>/dev/null || true")) ? true : undefined), 30);
      assert.match(sshOk(mx, "journalctl -q --no-pager -u postfix@-"), /Verified TLS connection established to smtp\.provider\.test\[[^\]]+\]:587/);
    } finally {
      dns.kill();
      sshOk(mx, "rm -f /usr/local/share/ca-certificates/mailfleet-test-ca.crt && update-ca-certificates --fresh >/dev/null; echo 'nameserver 127.0.0.1' >/etc/resolv.conf");
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
