// DNS publication through RFC 2136, against a real BIND 9 (Debian's named, test/tools/bind.ts)
// on the test network: the host provisioned from the sandbox stack sends TSIG-signed updates with
// nsupdate. Proves: after `up` the server serves exactly the expected A, AAAA, MX, SPF, DMARC and
// TLSA records and keeps the TXT records that are not ours; a changed address is updated in
// place; a removed domain loses its records; a wrong key fails `up` with an error naming the key
// and changes no zone; with that BIND as the host's resolver, rejectUnknownSenderDomain refuses a
// sender domain that does not exist and accepts one that does; destroy removes what was
// published. Does not prove: DNSSEC, other servers (Knot, PowerDNS), or zones split across
// several primaries.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Bind, newTsigKey, startBind, TsigKey } from "../tools/bind";
import { ProvisionedHost } from "../tools/provisioned";
import { lastReply, swaks } from "../tools/probe";
import { Override } from "../tools/stack-run";
import { cannotBootHosts, sshOk } from "../tools/testhost";

const why = cannotBootHosts();
if (why && process.env.MAILFLEET_E2E === "require") throw new Error(`DNS tests cannot run: ${why}`);

const INDEX = 43;
const HOST = "mail.mailfleet.test";
const VERIFICATION = '"site-verification=kept-by-mailfleet"';

describe("DNS records through RFC 2136 (real BIND)", { skip: why }, () => {
  let p: ProvisionedHost;
  let bind: Bind;
  let key: TsigKey;
  let dns: Record<string, Override>;
  let spki = "";

  const rfc2136 = (extra: Record<string, Override> = {}) => p.up({ ...dns, ...extra });
  const q = (name: string, type: string) => bind.query(name, type);

  before(async () => {
    // The first up (no DNS provider) brings up the bridge BIND listens on.
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
        // Another team's zone: the key may not update it.
        { name: "example.com", updatable: false },
      ],
      key,
    });
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
    };
  });

  after(() => {
    p?.stop();
    bind?.stop();
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

  it("removes the records of a domain that leaves the stack, and an address no longer given", () => {
    const r = rfc2136({
      "mailfleet:domains": { value: JSON.stringify(["example.test", "example.org"]) },
      "mailfleet:publicIpv6": { value: "" },
    });
    assert.equal(r.code, 0, r.log);
    assert.deepEqual(q("example.net", "MX"), []);
    assert.deepEqual(q("_dmarc.example.net", "TXT"), []);
    assert.deepEqual(q("example.net", "TXT"), []);
    assert.deepEqual(q(HOST, "AAAA"), []);
    assert.deepEqual(q("example.test", "MX"), [`10 ${HOST}.`]);
  });

  it("fails with a wrong TSIG key, naming the key settings, and changes no zone", () => {
    const zones = ["mailfleet.test", "example.test", "example.org", "example.net"];
    const serials = zones.map((z) => bind.serial(z));
    const wrong = newTsigKey("mailfleet-dns-test").secret;
    const r = rfc2136({
      "mailfleet:domains": { value: JSON.stringify(["example.test", "example.org"]) },
      "mailfleet:publicIpv6": { value: "" },
      "mailfleet:dmarcPolicy": { value: "reject" },
      "mailfleet:dnsTsigSecret": { value: wrong, secret: true },
    });
    assert.notEqual(r.code, 0, "up succeeded with a wrong key");
    assert.match(r.log, /refused the update of zone [a-z.]+: .*BADSIG.*check mailfleet:dnsTsigKeyName, dnsTsigAlgorithm and dnsTsigSecret/);
    assert.ok(!r.log.includes(wrong) && !r.log.includes(key.secret), "the log shows a TSIG secret");
    assert.deepEqual(zones.map((z) => bind.serial(z)), serials);
    assert.deepEqual(q("_dmarc.example.test", "TXT"), ['"v=DMARC1; p=none; rua=mailto:dmarc-reports@example.test"']);
  });

  it("fails before any change when one zone refuses the key, naming that zone", () => {
    const zones = ["mailfleet.test", "example.test", "example.org", "example.com"];
    const serials = zones.map((z) => bind.serial(z));
    const r = rfc2136({
      "mailfleet:domains": { value: JSON.stringify(["example.test", "example.org", "example.com"]) },
      "mailfleet:publicIpv6": { value: "" },
    });
    assert.notEqual(r.code, 0, "up succeeded although example.com refuses the key");
    assert.match(r.log, /refused the update of zone example\.com: .*REFUSED.*allow them/);
    // The zones before it in the run (the host's, example.test) were not touched either.
    assert.deepEqual(zones.map((z) => bind.serial(z)), serials);
    assert.deepEqual(q("example.test", "MX"), [`10 ${HOST}.`]);
    assert.deepEqual(q("example.com", "MX"), []);
  });

  it("with the BIND as the host's resolver, refuses a sender domain that does not exist and accepts one that does", () => {
    // Debian's Postfix copies resolv.conf into its chroot when it starts.
    sshOk(p.host, `printf 'nameserver ${bind.ip}\\n' >/etc/resolv.conf && systemctl restart postfix@-`);
    const r = rfc2136({
      "mailfleet:domains": { value: JSON.stringify(["example.test", "example.org"]) },
      "mailfleet:publicIpv6": { value: "" },
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
