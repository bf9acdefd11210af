// End to end: Debian's pebble (test ACME CA) in the root namespace on the bridge, a dnsmasq
// stand-in resolver for the test names, and Debian's lego (4.9.1) on a Debian 12 test host
// answering HTTP-01 on its port 80.
// Proves: the fixture issues a certificate that chains to pebble's root; an order for a name that
// does not resolve fails with the CA's own problem text; lego's renew window, hooks and file
// layout as this project relies on them. Does not prove: anything about a real CA's rate limits,
// CAA or multi-perspective validation, or DNS-01.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { Resolver, startResolver } from "../tools/dns-standin";
import { Pebble, startPebble } from "../tools/pebble";
import { cannotBootHosts, ssh, sshOk, startHost, stopHost, TestHost } from "../tools/testhost";

const NAME = "acmeprobe";
const FQDN = "mail.acme.test";
const LEGO_PATH = "/var/lib/lego-test";
const CERTS = `${LEGO_PATH}/certificates`;
// Not 53: another test may run its own dnsmasq on the bridge address; pebble takes any port.
const DNS_PORT = 5341;
const why = cannotBootHosts();
// CI sets MAILFLEET_E2E=require: there a missing prerequisite is a failure, not a skip.
if (why && process.env.MAILFLEET_E2E === "require") throw new Error(`end-to-end tests cannot run: ${why}`);

/** One shell word for the remote command line. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

// lego runs hooks with exec (split on whitespace, no shell), 120 s timeout; this one records them.
const HOOK = `#!/bin/sh
{ echo "args: $*"; env | grep '^LEGO_' | grep -v '^LEGO_CA_' | sort; } >"/root/hook-$(date +%s%N).log"
`;

describe("pebble as the test ACME CA for lego on a Debian 12 host", { skip: why }, () => {
  let host: TestHost | undefined;
  let booting = false;
  let dns: Resolver | undefined;
  let pebble: Pebble | undefined;
  const lego = (globalArgs: string[], command: string[]) => {
    const argv = ["lego", "--server", pebble!.directoryUrl, "--email", "postmaster@acme.test", "--accept-tos",
      "--http", "--http.port", ":80", "--path", LEGO_PATH, ...globalArgs, ...command];
    const t0 = Date.now();
    const r = ssh(host!, `LEGO_CA_CERTIFICATES=/root/pebble-ca.pem ${argv.map(q).join(" ")}`);
    return { ...r, ms: Date.now() - t0 };
  };
  const serial = () => sshOk(host!, `openssl x509 -in ${CERTS}/${FQDN}.crt -noout -serial`).trim();
  const hookLogs = () => sshOk(host!, "cat /root/hook-*.log 2>/dev/null; rm -f /root/hook-*.log");

  before(async () => {
    booting = true;
    host = startHost(NAME, { fqdn: FQDN, index: 41 });
    // The bridge address exists once a host has booted; pebble and dnsmasq bind to it.
    dns = await startResolver(host.gateway4, [{ name: FQDN, a: host.ipv4, aaaa: host.ipv6 }], { port: DNS_PORT, localDomains: ["acme.test"] });
    pebble = await startPebble({ listen: host.gateway4, dnsServer: dns.address });
    sshOk(host, "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends lego >/dev/null");
    sshOk(host, "cat >/root/pebble-ca.pem", pebble.serverCaPem);
    sshOk(host, "cat >/root/hook.sh && chmod 755 /root/hook.sh", HOOK);
  });

  after(() => {
    // Each step on its own: a failure in one must not leave the others running.
    try { pebble?.stop(); } catch (e) { console.error(e); }
    try { dns?.stop(); } catch (e) { console.error(e); }
    if (booting) stopHost(NAME);
  });

  it("issues a certificate over HTTP-01 that chains to pebble's root, and runs the run hook", async (t) => {
    const r = lego(["--domains", FQDN], ["run", "--run-hook", "/root/hook.sh issued"]);
    assert.equal(r.code, 0, `${r.stderr}\n--- pebble:\n${pebble!.log().slice(-3000)}`);
    t.diagnostic(`issuance wall time (ssh + account + order + HTTP-01 + finalize): ${r.ms} ms`);
    assert.match(r.stderr, /\[mail\.acme\.test\] The server validated our request/);
    assert.equal(sshOk(host!, `cd ${CERTS} && ls`), `${FQDN}.crt\n${FQDN}.issuer.crt\n${FQDN}.json\n${FQDN}.key\n`);
    assert.equal(sshOk(host!, `stat -c '%a %n' ${CERTS}/*`), ["crt", "issuer.crt", "json", "key"].map((e) => `600 ${CERTS}/${FQDN}.${e}`).join("\n") + "\n");
    // lego's default --key-type is ec256; the .crt is the leaf followed by the issuer (bundle).
    assert.match(sshOk(host!, `head -1 ${CERTS}/${FQDN}.key`), /^-----BEGIN EC PRIVATE KEY-----$/m);
    const crt = sshOk(host!, `cat ${CERTS}/${FQDN}.crt`);
    const issuer = sshOk(host!, `cat ${CERTS}/${FQDN}.issuer.crt`);
    assert.equal(crt.match(/-----BEGIN CERTIFICATE-----/g)?.length, 2);
    assert.ok(crt.endsWith(issuer), "the .crt ends with the .issuer.crt");
    assert.deepEqual(JSON.parse(sshOk(host!, `cat ${CERTS}/${FQDN}.json`)).domain, FQDN);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailfleet-pebble-verify-"));
    try {
      fs.writeFileSync(path.join(dir, "root.pem"), await pebble!.issuerRootPem());
      fs.writeFileSync(path.join(dir, "issuer.pem"), issuer);
      fs.writeFileSync(path.join(dir, "leaf.pem"), crt);
      const v = spawnSync("openssl", ["verify", "-CAfile", "root.pem", "-untrusted", "issuer.pem", "-purpose", "sslserver", "-verify_hostname", FQDN, "leaf.pem"],
        { cwd: dir, encoding: "utf8" });
      assert.equal(v.stdout, "leaf.pem: OK\n", v.stderr);
      const dates = spawnSync("openssl", ["x509", "-in", "leaf.pem", "-noout", "-dates", "-ext", "subjectAltName"], { cwd: dir, encoding: "utf8" }).stdout;
      const notBefore = Date.parse(/notBefore=(.*)/.exec(dates)![1]);
      const notAfter = Date.parse(/notAfter=(.*)/.exec(dates)![1]);
      t.diagnostic(dates.trim().replace(/\n\s*/g, "; "));
      // pebble 2.4.0: notAfter = notBefore + certificateValidityPeriod - 1 s, default 157766400 s (1826 days).
      assert.equal((notAfter - notBefore) / 1000, 157766400 - 1);
      assert.match(dates, /DNS:mail\.acme\.test$/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // run hooks get four variables (renew hooks get two more, see below)
    assert.equal(hookLogs(), [
      "args: issued", "LEGO_ACCOUNT_EMAIL=postmaster@acme.test", `LEGO_CERT_DOMAIN=${FQDN}`,
      `LEGO_CERT_KEY_PATH=${CERTS}/${FQDN}.key`, `LEGO_CERT_PATH=${CERTS}/${FQDN}.crt`, "",
    ].join("\n"));
  });

  it("fails with the CA's own reason for a name that does not resolve", () => {
    const r = lego(["--domains", "nothere.acme.test"], ["run"]);
    assert.equal(r.code, 1, r.stderr);
    const reason = /^\[nothere\.acme\.test\] acme: error: .*$/m.exec(r.stderr)?.[0];
    assert.match(reason ?? "", new RegExp(
      '^\\[nothere\\.acme\\.test\\] acme: error: 400 :: urn:ietf:params:acme:error:connection :: ' +
      'Get "http://nothere\\.acme\\.test:80/\\.well-known/acme-challenge/([\\w-]+)": could not resolve URL "http://nothere\\.acme\\.test:80/\\.well-known/acme-challenge/\\1"$'), r.stderr);
    assert.match(r.stderr, /Could not obtain certificates:\n\terror: one or more domains had a problem:\n\[nothere\.acme\.test\]/);
    assert.ok(!sshOk(host!, `ls ${CERTS}`).includes("nothere"));
  });

  it("renews only when --days reaches the remaining lifetime, then runs the renew hook", () => {
    const before = serial();
    const kept = lego(["--domains", FQDN], ["renew", "--days", "30", "--renew-hook", "/root/hook.sh renewed"]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stderr, /\[mail\.acme\.test\] The certificate expires in 182[56] days, the number of days defined to perform the renewal is 30: no renewal\.$/m);
    assert.equal(serial(), before);
    assert.equal(hookLogs(), "");
    // --no-random-sleep: without it and without a terminal, lego 4.9.1 sleeps up to 8 min first.
    const renewed = lego(["--domains", FQDN], ["renew", "--days", "2000", "--no-random-sleep", "--renew-hook", "/root/hook.sh renewed"]);
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.notEqual(serial(), before);
    assert.equal(hookLogs(), [
      "args: renewed", "LEGO_ACCOUNT_EMAIL=postmaster@acme.test", `LEGO_CERT_DOMAIN=${FQDN}`, `LEGO_CERT_KEY_PATH=${CERTS}/${FQDN}.key`,
      `LEGO_CERT_PATH=${CERTS}/${FQDN}.crt`, `LEGO_CERT_PEM_PATH=${CERTS}/${FQDN}.pem`, `LEGO_CERT_PFX_PATH=${CERTS}/${FQDN}.pfx`, "",
    ].join("\n"));
  });

  it("renew adds names but never drops one and ignores a changed list outside the window; run replaces", () => {
    const www = `www.${FQDN}`; // dnsmasq's --address=/mail.acme.test/ answers for names below it too
    const san = () => sshOk(host!, `openssl x509 -in ${CERTS}/${FQDN}.crt -noout -ext subjectAltName`).trim().split("\n").pop()!.trim();
    const outside = lego(["--domains", FQDN, "--domains", www], ["renew", "--days", "30"]);
    assert.equal(outside.code, 0, outside.stderr);
    assert.equal(san(), `DNS:${FQDN}`);
    const grown = lego(["--domains", FQDN, "--domains", www], ["renew", "--days", "2000", "--no-random-sleep"]);
    assert.equal(grown.code, 0, grown.stderr);
    assert.equal(san(), `DNS:${FQDN}, DNS:${www}`);
    const shrunk = lego(["--domains", FQDN], ["renew", "--days", "2000", "--no-random-sleep"]);
    assert.equal(shrunk.code, 0, shrunk.stderr);
    assert.equal(san(), `DNS:${FQDN}, DNS:${www}`);
    // renew finds its files by the first --domains value only
    const other = lego(["--domains", www, "--domains", FQDN], ["renew", "--days", "2000", "--no-random-sleep"]);
    assert.equal(other.code, 1);
    assert.match(other.stderr, new RegExp(`Error while loading the certificate for domain www\\.mail\\.acme\\.test\\n\\topen ${CERTS}/www\\.mail\\.acme\\.test\\.crt: no such file or directory`));
    const replaced = lego(["--domains", FQDN, "--key-type", "rsa2048"], ["run"]);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.equal(san(), `DNS:${FQDN}`);
    assert.match(sshOk(host!, `head -1 ${CERTS}/${FQDN}.key`), /^-----BEGIN RSA PRIVATE KEY-----$/m);
  });
});
