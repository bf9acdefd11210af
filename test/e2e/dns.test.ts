// DNS publication through RFC 2136, against a real BIND 9 (Debian's named, test/tools/bind.ts)
// on the test network: the host provisioned from the sandbox stack sends TSIG-signed updates with
// nsupdate. Proves: after `up` the server serves exactly the expected A, AAAA, MX, SPF, DMARC and
// TLSA records and keeps the TXT records that are not ours; a changed address is updated in
// place; a removed domain loses its records; a wrong key fails `up` with an error naming the key
// and changes no zone; with that BIND as the host's resolver, rejectUnknownSenderDomain refuses a
// sender domain that does not exist and accepts one that does; an ACME certificate from Debian's
// Pebble over DNS-01 through that BIND, renewed by the host's timer with the key it kept; mail
// forwarded to the peer test host leaves with an SRS sender, its bounce comes back through the
// host to the original sender, and mailbox deliveries keep their sender; destroy removes what was
// published. Does not prove: DNSSEC, other servers (Knot, PowerDNS), or zones split across
// several primaries.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { Bind, newTsigKey, startBind, TsigKey } from "../tools/bind";
import { Pebble, startPebble } from "../tools/pebble";
import { ProvisionedHost } from "../tools/provisioned";
import { imaps, lastReply, swaks, waitFor } from "../tools/probe";
import { Override } from "../tools/stack-run";
import { cannotBootHosts, ssh, sshOk, startHost, stopHost, TestHost } from "../tools/testhost";

const why = cannotBootHosts();
if (why && process.env.MAILFLEET_E2E === "require") throw new Error(`DNS tests cannot run: ${why}`);

const INDEX = 43;
const PEER_INDEX = 42;
const HOST = "mail.mailfleet.test";
const VERIFICATION = '"site-verification=kept-by-mailfleet"';

describe("DNS records through RFC 2136 (real BIND)", { skip: why }, () => {
  let p: ProvisionedHost;
  let peer: TestHost;
  let bind: Bind;
  let key: TsigKey;
  let dns: Record<string, Override>;
  let spki = "";

  const rfc2136 = (extra: Record<string, Override> = {}) => p.up({ ...dns, ...extra });
  // The stack after example.net has left it.
  const two = { "mailfleet:domains": { value: JSON.stringify(["example.test", "example.org"]) } };
  const q = (name: string, type: string) => bind.query(name, type);

  before(async () => {
    // The peer boots first: it brings up the bridge BIND listens on.
    peer = startHost("dnspeer", { fqdn: "mx.dual.test", index: PEER_INDEX });
    p = new ProvisionedHost("dns", INDEX, "sandbox");
    assert.equal(p.first.code, 0, p.first.log);
    key = newTsigKey("mailfleet-dns-test");
    bind = await startBind({
      listen: p.host.gateway4,
      zones: [
        { name: "mailfleet.test" },
        // Ours to replace: a stale SPF record. Not ours: a site verification at the same name.
        { name: "example.test", records: [`example.test. 300 IN TXT ${VERIFICATION}`, 'example.test. 300 IN TXT "v=spf1 a -all"'] },
        // A stale MX from a previous provider: the record set is replaced, not added to.
        { name: "example.org", records: ["example.org. 300 IN MX 5 old-mx.example.org.", "old-mx.example.org. 300 IN A 192.0.2.9"] },
        { name: "example.net" },
        // A key granted TXT records only (update-policy, as for ACME challenges): no MX here.
        { name: "example.com", grantTypes: ["TXT"] },
        // A destination whose MX has both an IPv4 and an IPv6 address (the peer test host).
        { name: "dual.test", records: ["dual.test. 300 IN MX 10 mx.dual.test.", `mx.dual.test. 300 IN A ${peer.ipv4}`, `mx.dual.test. 300 IN AAAA ${peer.ipv6}`] },
      ],
      key,
    });
    // The peer receives mail for dual.test (DKIM and address family tests).
    sshOk(peer, "bash -s", PEER_SETUP);
    // The host resolves through the BIND. Debian's Postfix copies resolv.conf into its chroot
    // when it starts.
    sshOk(p.host, `printf 'nameserver ${bind.ip}\\n' >/etc/resolv.conf && systemctl restart postfix@-`);
    dns = {
      "mailfleet:dnsProvider": { value: "rfc2136" },
      "mailfleet:dnsServer": { value: bind.ip },
      "mailfleet:dnsTsigKeyName": { value: key.name },
      "mailfleet:dnsTsigSecret": { value: key.secret, secret: true },
      "mailfleet:dnsTtl": { value: "300" },
      "mailfleet:publicIpv4": { value: p.host.ipv4 },
      "mailfleet:publicIpv6": { value: p.host.ipv6 },
      "mailfleet:dmarcReportAddress": { value: "dmarc-reports@example.test" },
      "mailfleet:domains": { value: JSON.stringify(["example.test", "example.org", "example.net"]) },
      // The sandbox stack leaves DKIM off; here it signs, with its key in the BIND.
      "mailfleet:dkimSigning": { value: "true" },
    };
  });

  after(() => {
    p?.stop();
    bind?.stop();
    if (peer) stopHost("dnspeer");
  });

  it("publishes exactly the expected records and keeps the TXT records that are not its own", () => {
    const r = rfc2136();
    assert.equal(r.code, 0, r.log);
    spki = String(r.summary.outputs.certificateSpkiSha256);
    assert.match(spki, /^[0-9a-f]{64}$/);
    assert.deepEqual(q(HOST, "A"), [p.host.ipv4]);
    // Both in RFC 5952 form: the stack canonicalises publicIpv6, dig prints it so.
    assert.deepEqual(q(HOST, "AAAA"), [p.host.ipv6]);
    assert.deepEqual(q(HOST, "TXT"), ['"v=spf1 a -all"']);
    // dig splits the hex into groups.
    assert.deepEqual(q(`_25._tcp.${HOST}`, "TLSA").map((t) => t.replace(/\s+/g, "").toLowerCase()), [`311${spki}`]);
    for (const d of ["example.test", "example.org", "example.net"]) {
      assert.deepEqual(q(d, "MX"), [`10 ${HOST}.`], d);
      assert.deepEqual(q(`_dmarc.${d}`, "TXT"), ['"v=DMARC1; p=none; rua=mailto:dmarc-reports@example.test"'], d);
    }
    assert.deepEqual(q("example.test", "TXT"), [VERIFICATION, '"v=spf1 mx -all"'].sort());
    assert.deepEqual(q("example.org", "TXT"), ['"v=spf1 mx -all"']);
    // The DKIM key, one for every domain, in strings of at most 255 octets.
    for (const d of ["example.test", "example.org", "example.net"]) {
      const [dkim, ...more] = q(`mf1._domainkey.${d}`, "TXT");
      assert.equal(more.length, 0, d);
      assert.match(dkim, /^"v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+" "[A-Za-z0-9+/=]+"$/, d);
      assert.equal(dkim.replace(/" "/g, "").length - '"v=DKIM1; k=rsa; p="'.length, 392, `${d}: a 2048-bit key's SubjectPublicKeyInfo is 392 base64 characters`);
    }
    // The zone snippet output says the same.
    const zone = String(r.summary.outputs.dnsZone);
    assert.match(zone, /^example\.org\. 300 MX 10 mail\.mailfleet\.test\.$/m);
    assert.match(zone, new RegExp(`^_25\\._tcp\\.mail\\.mailfleet\\.test\\. 300 TLSA 3 1 1 ${spki}$`, "m"));
    // The key never rests on the host.
    assert.equal(sshOk(p.host, `grep -rl -F -- '${key.secret}' /etc /var/lib/mailfleet /run 2>/dev/null | wc -l`).trim(), "0");
  });

  it("updates a changed address in place", () => {
    const moved = p.host.ipv4.replace(/\.\d+$/, ".243");
    const r = rfc2136({ "mailfleet:publicIpv4": { value: moved } });
    assert.equal(r.code, 0, r.log);
    assert.deepEqual(q(HOST, "A"), [moved]);
    const back = rfc2136();
    assert.equal(back.code, 0, back.log);
    assert.deepEqual(q(HOST, "A"), [p.host.ipv4]);
  });

  it("removes the records of a domain that leaves the stack, and an address no longer given, but not another's record there", () => {
    // The domain's next provider has added its own MX beside ours meanwhile.
    bind.update("example.net", ["update add example.net. 300 MX 20 mx.next-provider.test."]);
    const r = rfc2136({
      "mailfleet:domains": { value: JSON.stringify(["example.test", "example.org"]) },
      // The host loses its IPv6: no AAAA any more.
      "mailfleet:publicIpv6": { value: "" },
      "mailfleet:ipv4Only": { value: "true" },
    });
    assert.equal(r.code, 0, r.log);
    assert.deepEqual(q("example.net", "MX"), ["20 mx.next-provider.test."]);
    assert.deepEqual(q("_dmarc.example.net", "TXT"), []);
    assert.deepEqual(q("example.net", "TXT"), []);
    assert.deepEqual(q("mf1._domainkey.example.net", "TXT"), []);
    assert.deepEqual(q(HOST, "AAAA"), []);
    assert.deepEqual(q("example.test", "MX"), [`10 ${HOST}.`]);
  });

  it("fails with a wrong TSIG key, naming the key settings, and changes no zone", () => {
    const zones = ["mailfleet.test", "example.test", "example.org", "example.net"];
    const serials = zones.map((z) => bind.serial(z));
    const wrong = newTsigKey("mailfleet-dns-test").secret;
    const r = rfc2136({
      ...two,
      "mailfleet:dmarcPolicy": { value: "reject" },
      "mailfleet:dnsTsigSecret": { value: wrong, secret: true },
    });
    assert.notEqual(r.code, 0, "up succeeded with a wrong key");
    assert.match(r.log, /refused the update of zone [a-z.]+: .*BADSIG.*check mailfleet:dnsTsigKeyName, dnsTsigAlgorithm and dnsTsigSecret/);
    assert.ok(!r.log.includes(wrong) && !r.log.includes(key.secret), "the log shows a TSIG secret");
    assert.deepEqual(zones.map((z) => bind.serial(z)), serials);
    assert.deepEqual(q("_dmarc.example.test", "TXT"), ['"v=DMARC1; p=none; rua=mailto:dmarc-reports@example.test"']);
  });

  it("fails before any change when one zone refuses the key for a record type, naming that zone", () => {
    const zones = ["mailfleet.test", "example.test", "example.org", "example.com"];
    const serials = zones.map((z) => bind.serial(z));
    // A change in the zones before example.com too: without the probe they would be updated first.
    const r = rfc2136({
      "mailfleet:domains": { value: JSON.stringify(["example.test", "example.org", "example.com"]) },
      "mailfleet:dmarcPolicy": { value: "quarantine" },
    });
    assert.notEqual(r.code, 0, "up succeeded although example.com refuses MX records from the key");
    assert.match(r.log, /refused the update of zone example\.com: .*REFUSED.*does not let key mailfleet-dns-test update these records in example\.com/);
    assert.deepEqual(zones.map((z) => bind.serial(z)), serials);
    assert.deepEqual(q("_dmarc.example.test", "TXT"), ['"v=DMARC1; p=none; rua=mailto:dmarc-reports@example.test"']);
    assert.deepEqual(q("example.com", "MX"), []);
  });

  it("refuses to publish at a name that is a CNAME, naming it, and publishes once it is gone", () => {
    // Someone moved the domain's DMARC to a hosted service (BIND ignores a CNAME added beside other records).
    bind.update("example.org", ["update delete _dmarc.example.org. TXT", "update add _dmarc.example.org. 300 CNAME dmarc.elsewhere.test."]);
    assert.deepEqual(q("_dmarc.example.org", "CNAME"), ["dmarc.elsewhere.test."]);
    const serial = bind.serial("mailfleet.test");
    const change = { "mailfleet:dmarcPolicy": { value: "quarantine" } };
    const r = rfc2136({ ...two, ...change });
    assert.notEqual(r.code, 0, "up succeeded with a CNAME at _dmarc.example.org");
    assert.match(r.log, /_dmarc\.example\.org is a CNAME \(to dmarc\.elsewhere\.test\.\) on [0-9.]+: .*remove the CNAME/);
    assert.equal(bind.serial("mailfleet.test"), serial);
    bind.update("example.org", ["update delete _dmarc.example.org. CNAME"]);
    const again = rfc2136({ ...two, ...change });
    assert.equal(again.code, 0, again.log);
    assert.deepEqual(q("_dmarc.example.org", "TXT"), ['"v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@example.test"']);
    assert.equal(rfc2136(two).code, 0);
  });

  it("with the BIND as the host's resolver, refuses a sender domain that does not exist and accepts one that does", () => {
    const r = rfc2136({
      ...two,
      "mailfleet:rejectUnknownSenderDomain": { value: "true" },
    });
    assert.equal(r.code, 0, r.log);
    const send = (from: string) => swaks(["--server", p.host.ipv4, "--port", "25", "--ehlo", "mx.external.test", "--from", from, "--to", "alice@example.test", "--quit-after", "RCPT"]);
    const unknown = send("someone@no-such-domain.example.org");
    // Postfix's unknown_address_reject_code (450): refused, and retried by a real sender.
    assert.match(lastReply(unknown), /^4\d\d .*Sender address rejected: Domain not found/, unknown.raw);
    const known = send("someone@example.org");
    assert.match(lastReply(known), /^250 /, known.raw);
  });

  describe("DKIM signing", () => {
    const inbox = () => sshOk(peer, "cat /var/mail/victim 2>/dev/null || true");
    /** The message with `subject` from the peer's mbox, as it arrived. */
    const delivered = async (subject: string) => {
      const box = await waitFor(`${subject} at the peer`, () => (inbox().includes(`Subject: ${subject}`) ? inbox() : undefined), 60);
      const message = box.split(/^From /m).find((m) => m.includes(`Subject: ${subject}`)) ?? "";
      return message.slice(message.indexOf("\n") + 1);
    };
    const verify = (message: string) => spawnSync("/usr/bin/python3", ["-B", path.join(__dirname, "..", "tools", "dkim-verify.py"), bind.ip], { input: message, encoding: "utf8" });
    const send = (subject: string) => {
      const d = p.submitMessage("alice@example.test", "victim@dual.test", `From: alice@example.test\nTo: victim@dual.test\nSubject: ${subject}\nMessage-ID: <${subject}@example.test>\n\nsigned mail\n`);
      assert.match(lastReply(d), /^250 /, d.raw);
    };
    const signing = (extra: Record<string, Override> = {}) => rfc2136({ ...two, "mailfleet:rejectUnknownSenderDomain": { value: "true" }, ...extra });

    let signedWithMf1 = "";
    it("signs submitted mail so that the receiver's verifier, reading the key from DNS, says pass", async () => {
      assert.equal(signing().code, 0);
      const subject = `dkim-${Date.now()}`;
      send(subject);
      signedWithMf1 = await delivered(subject);
      const r = verify(signedWithMf1);
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      assert.equal(r.stdout.trim(), "pass d=example.test s=mf1");
    });

    it("signs for an alias in another hosted domain that the login may send as", async () => {
      const subject = `dkim-alias-${Date.now()}`;
      const d = p.submit(587, "bob@example.test", "team@example.org", "victim@dual.test", ["--header", `Subject: ${subject}`]);
      assert.match(lastReply(d), /^250 /, d.raw);
      assert.equal(verify(await delivered(subject)).stdout.trim(), "pass d=example.org s=mf1");
    });

    it("answers 4xx while Rspamd is down, sends nothing unsigned, and signs again once it is back", async () => {
      sshOk(p.host, "systemctl stop rspamd");
      try {
        const subject = `dkim-down-${Date.now()}`;
        const d = p.submitMessage("alice@example.test", "victim@dual.test", `From: alice@example.test\nTo: victim@dual.test\nSubject: ${subject}\n\nx\n`);
        // Postfix tried the milter at connect; STARTTLS (587) is the first command it refuses.
        assert.match(d.replies.find((l) => /^4\d\d /.test(l)) ?? "", /^45\d 4\.\d\.\d /, d.raw);
        assert.ok(!d.replies.some((l) => /^250 .*queued/.test(l)), d.raw);
        // The hourly drift check tells the postmaster.
        assert.match(ssh(p.host, "/usr/local/sbin/mailfleet-drift").stdout, /^drift: service rspamd is (inactive|failed)$/m);
      } finally {
        sshOk(p.host, "systemctl start rspamd && for i in $(seq 1 300); do (: </dev/tcp/127.0.0.1/11332) 2>/dev/null && break; sleep 0.1; done");
      }
      const subject = `dkim-back-${Date.now()}`;
      send(subject);
      assert.equal(verify(await delivered(subject)).stdout.trim(), "pass d=example.test s=mf1");
    });

    it("rotates the key without a gap: both keys published, the new one signs, then the old record goes", async () => {
      const mf1 = q("mf1._domainkey.example.test", "TXT");
      // A bigger key for the new selector; the old one keeps its size and its record.
      const r = signing({ "mailfleet:dkimSelector": { value: "mf2" }, "mailfleet:dkimPreviousSelector": { value: "mf1" }, "mailfleet:dkimKeyBits": { value: "3072" } });
      assert.equal(r.code, 0, r.log);
      assert.deepEqual(q("mf1._domainkey.example.test", "TXT"), mf1);
      assert.equal(verify(signedWithMf1).stdout.trim(), "pass d=example.test s=mf1", "mail signed before the rotation no longer verifies");
      assert.equal(q("mf2._domainkey.example.test", "TXT").length, 1);
      assert.notDeepEqual(q("mf1._domainkey.example.test", "TXT"), q("mf2._domainkey.example.test", "TXT"));
      const subject = `dkim-mf2-${Date.now()}`;
      send(subject);
      assert.equal(verify(await delivered(subject)).stdout.trim(), "pass d=example.test s=mf2");
      // The old key stays on the host while it is published (Rspamd's old workers may finish with it).
      assert.equal(sshOk(p.host, "ls /var/lib/rspamd/dkim").trim(), "mf1.key\nmf2.key");
      const after = signing({ "mailfleet:dkimSelector": { value: "mf2" }, "mailfleet:dkimKeyBits": { value: "3072" } });
      assert.equal(after.code, 0, after.log);
      assert.equal(sshOk(p.host, "ls /var/lib/rspamd/dkim").trim(), "mf2.key");
      assert.deepEqual(q("mf1._domainkey.example.test", "TXT"), []);
      assert.equal(q("mf2._domainkey.example.test", "TXT").length, 1);
    });
  });

  describe("ACME over DNS-01 through the BIND", () => {
    let pebble: Pebble;
    let acme: Record<string, Override>;
    const secretFile = "/etc/mailfleet/acme/rfc2136.secret";
    const served = () => sshOk(p.host, "openssl s_client -connect 127.0.0.1:465 </dev/null 2>/dev/null | openssl x509 -noout -serial -issuer");

    before(async () => {
      // HTTP-01 and TLS-ALPN-01 would reach ports where nothing listens: only DNS-01 can pass.
      // Certificates of 40 days, inside the 60-day renewal window: every timer run renews.
      pebble = await startPebble({ listen: p.host.gateway4, dnsServer: bind.address, httpPort: 5099, tlsPort: 5098, certificateValidityPeriodSeconds: 40 * 86400 });
      acme = {
        "mailfleet:tlsCertificateSource": { value: "acme" },
        "mailfleet:acmeChallenge": { value: "dns-01" },
        "mailfleet:acmeDirectoryUrl": { value: pebble.directoryUrl },
        "mailfleet:acmeEmail": { value: "hostmaster@mailfleet.test" },
        "mailfleet:acmeCaCertificate": { value: pebble.serverCaPem.trim() },
        "mailfleet:acmeRenewBeforeDays": { value: "60" },
      };
      sshOk(p.host, "cat >/root/pebble-root.pem", await pebble.issuerRootPem());
    });
    after(() => pebble?.stop());

    it("issues the certificate with a challenge record in the BIND, keeps the key root 0600, and renews with it", async () => {
      const r = rfc2136({ ...two, ...acme });
      assert.equal(r.code, 0, `${r.log}\n--- pebble:\n${pebble.log().slice(-3000)}`);
      // Submission serves Pebble's certificate for the host name.
      const verify = sshOk(p.host, `openssl s_client -connect 127.0.0.1:465 -CAfile /root/pebble-root.pem -verify_hostname ${HOST} -verify_return_error </dev/null 2>&1 || true`);
      assert.match(verify, /Verify return code: 0 \(ok\)/, verify);
      // The challenge went through the BIND: named logged the TXT added and deleted again.
      const log = bind.log();
      assert.match(log, new RegExp(`adding an RR at '_acme-challenge\\.${HOST.replace(/\./g, "\\.")}' TXT`), log.slice(-3000));
      assert.deepEqual(q(`_acme-challenge.${HOST}`, "TXT"), []);
      // The key is on the host for the renewals: only the secret file holds it, root 0600.
      assert.equal(sshOk(p.host, `stat -c '%U:%G %a' ${secretFile}`).trim(), "root:root 600");
      assert.equal(sshOk(p.host, `cat ${secretFile}`).trim(), key.secret);
      assert.equal(sshOk(p.host, `grep -rl -F -- '${key.secret}' /etc /var/lib/mailfleet /run 2>/dev/null || true`).trim(), secretFile);
      // The hourly drift check watches the kept key, which the renewals need.
      sshOk(p.host, `chmod 0644 ${secretFile}`);
      assert.match(ssh(p.host, "/usr/local/sbin/mailfleet-drift").stdout, /rfc2136\.secret is root:root 644, not root:root 600/);
      sshOk(p.host, `chmod 0600 ${secretFile}`);
      // The TLSA record follows the new key.
      const spkiNow = String(r.summary.outputs.certificateSpkiSha256);
      assert.notEqual(spkiNow, spki);
      assert.deepEqual(q(`_25._tcp.${HOST}`, "TLSA").map((t) => t.replace(/\s+/g, "").toLowerCase()), [`311${spkiNow}`]);
      // The renewal timer's run: a new certificate through DNS-01, with the kept key alone.
      const before = served();
      const adds = (bind.log().match(/adding an RR at '_acme-challenge/g) ?? []).length;
      sshOk(p.host, "systemctl start mailfleet-acme-renew.service");
      assert.notEqual(served(), before, "the renewal installed no new certificate");
      assert.equal((bind.log().match(/adding an RR at '_acme-challenge/g) ?? []).length, adds + 1);
    });

    it("refuses a key the server does not accept for the challenge records before any order, keeping the key in use", () => {
      const wrong = newTsigKey("mailfleet-dns-test").secret;
      const orders = (pebble.log().match(/POST \/order-plz/g) ?? []).length;
      const r = rfc2136({ ...two, ...acme, "mailfleet:dnsTsigSecret": { value: wrong, secret: true }, "mailfleet:acmeRenewBeforeDays": { value: "59" } });
      assert.notEqual(r.code, 0);
      assert.match(r.log, /refused the key for the ACME challenge records/);
      assert.ok(!r.log.includes(wrong), "the wrong secret was printed");
      assert.equal(sshOk(p.host, `cat ${secretFile}`).trim(), key.secret);
      assert.equal((pebble.log().match(/POST \/order-plz/g) ?? []).length, orders);
    });

    it("forgets the key when the stack goes back to a self-signed certificate", () => {
      const r = rfc2136(two);
      assert.equal(r.code, 0, r.log);
      assert.equal(sshOk(p.host, `ls /etc/mailfleet/acme/rfc2136.* 2>/dev/null || true`).trim(), "");
      // The following tests trust the new self-signed certificate.
      fs.writeFileSync(p.imap.caFile, String(r.summary.outputs.certificatePem));
    });
  });

  describe("SRS for forwarded mail", () => {
    const inbox = () => sshOk(peer, "cat /var/mail/victim 2>/dev/null || true");
    /** The message with `subject` from the peer's mbox, as it arrived. */
    const atPeer = async (subject: string) => {
      const box = await waitFor(`${subject} at the peer`, () => (inbox().includes(`Subject: ${subject}`) ? inbox() : undefined), 60);
      return box.split(/^From /m).filter((m) => m.includes(`Subject: ${subject}`));
    };
    /** Mail from outside to our port 25, as the peer's users would send it. */
    const inbound = (from: string, to: string, subject: string) => swaks(["--server", p.host.ipv4, "--port", "25", "--ehlo", "mx.dual.test",
      "--from", from, "--to", to, "--header", `Subject: ${subject}`, "--body", "forward me"]);
    const returnPath = (message: string) => /^Return-Path: <(.*)>$/m.exec(message)?.[1] ?? "(none)";
    const SRS_OF = (local: string) => new RegExp(`^SRS0=[A-Za-z0-9+/]{4}=[A-Z0-9]{2}=dual\\.test=${local}@${HOST.replace(/\./g, "\\.")}$`);
    const srsStack = () => rfc2136({
      ...two,
      "mailfleet:aliases": { value: JSON.stringify([
        "fwd@example.test: victim@dual.test",
        "mixed@example.test: alice@example.test, victim@dual.test",
        "gone@example.test: no-such-user@dual.test",
      ]) },
    });

    let srsAddress = "";

    before(() => {
      // The peer finds our host in the BIND for its bounces, and accepts any local part, bouncing
      // unknown ones after the fact as a remote MTA behind a gateway does.
      // Debian's "Local only" Postfix sends nothing off the host (default_transport = error).
      sshOk(peer, `printf 'nameserver ${bind.ip}\\n' >/etc/resolv.conf && postconf -e local_recipient_maps= && postconf -X default_transport relay_transport && systemctl restart postfix@-`);
      const r = srsStack();
      assert.equal(r.code, 0, r.log);
    });
    after(() => {
      if (peer) sshOk(peer, "postconf -X local_recipient_maps && postconf -e default_transport=error relay_transport=error && systemctl reload postfix@-");
    });

    it("forwards outside senders' mail with an SRS sender of the host name, and leaves hosted senders alone", async () => {
      const subject = `srs-fwd-${Date.now()}`;
      assert.match(lastReply(inbound("origin@dual.test", "fwd@example.test", subject)), /^250 /);
      const [forwarded] = await atPeer(subject);
      srsAddress = returnPath(forwarded);
      assert.match(srsAddress, SRS_OF("origin"), forwarded);
      // The header From is the author's: only the envelope changes.
      assert.match(forwarded, /^From: origin@dual\.test$/m);
      const own = `srs-own-${Date.now()}`;
      assert.match(lastReply(p.submit(587, "alice@example.test", "alice@example.test", "fwd@example.test", ["--header", `Subject: ${own}`])), /^250 /);
      assert.equal(returnPath((await atPeer(own))[0]), "alice@example.test");
    });

    it("delivers the mailbox copy of a forward with the original sender", async () => {
      const subject = `srs-mixed-${Date.now()}`;
      assert.match(lastReply(inbound("origin@dual.test", "mixed@example.test", subject)), /^250 /);
      assert.match(returnPath((await atPeer(subject))[0]), SRS_OF("origin"));
      const file = await waitFor("the copy in alice's Maildir", () => sshOk(p.host, `grep -rl -- '${subject}' /var/vmail/example.test/alice/Maildir/new /var/vmail/example.test/alice/Maildir/cur || true`).trim() || undefined, 30);
      assert.equal(sshOk(p.host, `grep -m1 '^Return-Path:' '${file}'`).trim(), "Return-Path: <origin@dual.test>");
    });

    it("routes the destination's bounce to the SRS address back to the original sender", async () => {
      const subject = `srs-bounce-${Date.now()}`;
      // victim@dual.test writes to an alias forwarding to an address the peer does not have.
      assert.match(lastReply(inbound("victim@dual.test", "gone@example.test", subject)), /^250 /);
      const bounce = await waitFor("the bounce in victim's mailbox", () => inbox().split(/^From /m).find((m) => m.includes("Undelivered Mail Returned to Sender") && m.includes(subject)), 90)
        .catch((e: Error) => {
          const tail = (h: TestHost) => sshOk(h, "journalctl -q --no-pager -u postfix@- -o cat -n 40");
          throw new Error(`${e.message}\n--- peer:\n${tail(peer)}\n--- ours:\n${tail(p.host)}`);
        });
      assert.match(bounce, /no-such-user@dual\.test/);
      // It came back through our host: accepted for the SRS address, sent on to the original sender.
      const log = sshOk(p.host, "journalctl -q --no-pager -u postfix@- -o cat");
      assert.match(log, /to=<victim@dual\.test>, orig_to=<SRS0=[^>]+@mail\.mailfleet\.test>, relay=mx\.dual\.test/);
    });

    it("accepts replies to the SRS addresses it made and refuses one with another hash, so SRS opens no relay", () => {
      assert.match(srsAddress, SRS_OF("origin"));
      const rcpt = (to: string) => swaks(["--server", p.host.ipv4, "--port", "25", "--ehlo", "mx.dual.test", "--from", "<>", "--to", to, "--quit-after", "RCPT"]);
      const made = rcpt(srsAddress);
      assert.match(lastReply(made), /^250 /, made.raw);
      // Another letter, not another case of the same one: postsrsd compares hashes without case.
      const hash = /^SRS0=([^=]+)=/.exec(srsAddress)![1];
      const forged = srsAddress.replace(`SRS0=${hash}=`, `SRS0=${hash[0].toLowerCase() === "a" ? "b" : "a"}${hash.slice(1)}=`);
      const d = rcpt(forged);
      assert.match(lastReply(d), /^550 5\.1\.1 /, d.raw);
    });

    it("defers mail while postsrsd is down, loses none, and tells the postmaster", async () => {
      sshOk(p.host, "systemctl stop postsrsd");
      try {
        const subject = `srs-down-${Date.now()}`;
        const d = inbound("origin@dual.test", "fwd@example.test", subject);
        assert.match(lastReply(d), /^4\d\d /, d.raw);
        assert.equal(sshOk(p.host, "postqueue -j | grep -c -F origin@dual.test || true").trim(), "0");
        assert.match(ssh(p.host, "/usr/local/sbin/mailfleet-drift").stdout, /^drift: service postsrsd is (inactive|failed)$/m);
      } finally {
        sshOk(p.host, "/usr/local/sbin/mailfleet-reload postsrsd");
      }
      const subject = `srs-back-${Date.now()}`;
      assert.match(lastReply(inbound("origin@dual.test", "fwd@example.test", subject)), /^250 /);
      assert.match(returnPath((await atPeer(subject))[0]), SRS_OF("origin"));
    });

    it("stops postsrsd and leaves forwarded senders as they are with srsForwarding off", async () => {
      const r = rfc2136({ ...two, "mailfleet:aliases": { value: JSON.stringify(["fwd@example.test: victim@dual.test"]) }, "mailfleet:srsForwarding": { value: "false" } });
      assert.equal(r.code, 0, r.log);
      assert.equal(ssh(p.host, "systemctl is-active postsrsd").stdout.trim(), "inactive");
      assert.equal(ssh(p.host, "test -e /etc/default/postsrsd").code, 1);
      const subject = `srs-off-${Date.now()}`;
      assert.match(lastReply(inbound("origin@dual.test", "fwd@example.test", subject)), /^250 /);
      assert.equal(returnPath((await atPeer(subject))[0]), "origin@dual.test");
    });
  });

  describe("address families", () => {
    // Short format: the syslog identifier (postfix/smtp-ipv4/smtp) is not part of the message.
    const journal = (h: TestHost) => sshOk(h, "journalctl -q --no-pager -u postfix@-");
    const families = (extra: Record<string, Override>) => rfc2136({
      ...two,
      "mailfleet:rejectUnknownSenderDomain": { value: "true" },
      ...extra,
    });

    for (const [family, key, service, address] of [
      [4, "forceIpv4Domains", "smtp-ipv4", () => peer.ipv4],
      [6, "forceIpv6Domains", "smtp-ipv6", () => peer.ipv6],
    ] as const) {
      it(`reaches a destination with A and AAAA over IPv${family} only when it is forced to`, async () => {
        const r = families({ [`mailfleet:${key}`]: { value: JSON.stringify(["dual.test"]) } });
        assert.equal(r.code, 0, r.log);
        const subject = `family-${family}-${Date.now()}`;
        const d = p.submitMessage("alice@example.test", "victim@dual.test", `From: alice@example.test\nTo: victim@dual.test\nSubject: ${subject}\n\nx\n`);
        assert.match(lastReply(d), /^250 /, d.raw);
        await waitFor(`the message at the peer over IPv${family}`, () => (sshOk(peer, "cat /var/mail/victim 2>/dev/null || true").includes(subject) ? true : undefined), 60);
        // Our side: the family's own smtp service, toward the family's address.
        const ours = journal(p.host).split("\n").filter((l) => l.includes("to=<victim@dual.test>") && l.includes("status=sent")).pop() ?? "";
        assert.match(ours, new RegExp(` postfix/${service}/smtp\\[\\d+\\]: .*relay=mx\\.dual\\.test\\[${address().replace(/[.:]/g, (c) => `\\${c}`)}\\]:25`), ours);
        // Theirs: the connection came from our address of that family.
        const from = family === 4 ? p.host.ipv4 : p.host.ipv6;
        assert.ok(journal(peer).split("\n").some((l) => /postfix\/smtpd\[\d+\]: connect from /.test(l) && l.includes(`[${from}]`)), `the peer saw no connection from ${from}`);
      });
    }

    it("serves an IPv6-only client: submission with AUTH and IMAP", () => {
      const d = swaks(["--server", p.host.ipv6, "--port", "587", "--tls", "--tls-verify", "--tls-ca-path", p.imap.caFile, "--tls-sni", p.hostname,
        "--auth", "PLAIN", "--auth-user", "bob@example.test", "--auth-password", p.passwords["bob@example.test"], "--from", "bob@example.test", "--to", "alice@example.test"]);
      assert.match(lastReply(d), /^250 2\.0\.0 Ok: queued as /, d.raw);
      const imap = imaps({ ...p.imap, address: p.host.ipv6 }, "bob@example.test", p.passwords["bob@example.test"], "INBOX", "EXAMINE INBOX");
      assert.equal(imap.code, 0, imap.out);
      assert.match(imap.out, /\d+ EXISTS/);
    });

    it("runs on a host without IPv6 with ipv4Only, listening on IPv4 only", () => {
      // No IPv6 at all in the host's network namespace, loopback included.
      const off = spawnSync("ip", ["netns", "exec", `mf-${p.host.name}`, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.lo.disable_ipv6=1"], { encoding: "utf8" });
      assert.equal(off.status, 0, off.stderr);
      const r = families({ "mailfleet:ipv4Only": { value: "true" }, "mailfleet:publicIpv6": { value: "" } });
      assert.equal(r.code, 0, r.log);
      // Both start from cold on this host (a restart, not just the reload the run did).
      sshOk(p.host, "systemctl restart dovecot postfix@-");
      assert.equal(sshOk(p.host, "systemctl is-active dovecot postfix@-").trim(), "active\nactive");
      assert.doesNotMatch(sshOk(p.host, "ss -Hltn"), /\[::\]:(25|587|465|993)\b/);
      const d = p.submit(587, "bob@example.test", "bob@example.test", "alice@example.test");
      assert.match(lastReply(d), /^250 2\.0\.0 Ok: queued as /, d.raw);
      assert.equal(imaps(p.imap, "bob@example.test", p.passwords["bob@example.test"], "INBOX", "EXAMINE INBOX").code, 0);
      assert.equal(ssh(p.host, "postconf -h inet_protocols").stdout.trim(), "ipv4");
    });
  });

  it("removes what it published on destroy, and only that", () => {
    const r = p.destroy(dns);
    assert.equal(r.code, 0, r.log);
    assert.deepEqual(q(HOST, "A"), []);
    assert.deepEqual(q("example.test", "MX"), []);
    assert.deepEqual(q("_dmarc.example.org", "TXT"), []);
    assert.deepEqual(q(`_25._tcp.${HOST}`, "TLSA"), []);
    assert.deepEqual(q("example.test", "TXT"), [VERIFICATION]);
    assert.deepEqual(q("old-mx.example.org", "A"), ["192.0.2.9"]);
  });
});

/** The peer's MX for dual.test: Debian's Postfix on both address families, local delivery to victim. */
const PEER_SETUP = `set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
apt-get install -y -q --no-install-recommends postfix >/tmp/apt.log 2>&1 || { apt-get update -q >>/tmp/apt.log 2>&1; apt-get install -y -q --no-install-recommends postfix >>/tmp/apt.log 2>&1; }
id victim >/dev/null 2>&1 || useradd -m victim
postconf -e myhostname=mx.dual.test 'mydestination=$myhostname, dual.test, localhost' inet_interfaces=all inet_protocols=all \\
  'mynetworks=127.0.0.0/8 [::1]/128' smtpd_tls_security_level=none
systemctl restart postfix
systemctl is-active --quiet postfix@-
`;
