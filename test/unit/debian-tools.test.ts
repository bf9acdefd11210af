// The rendered files, checked by Debian 12's own Postfix and Dovecot tools, run with chroot in a
// Debian tree that has the packages installed but nothing running (test/tools/testhost/
// make-tools-tree.sh). Also mailfleet-users' hashing, verified by Dovecot's doveadm.
// Needs root (chroot); not a booted host, so nothing here proves the daemons run the config.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { dovecotConf } from "../../components/dovecot/render";
import { mainCf, postfixFiles, smarthostCredentials } from "../../components/postfix/render";
import { FILES_DIR } from "../../components/host/host-programs";
import { dovecotSettings, postfixSettings } from "../fixtures/settings";
import { cannotBootHosts, toolsTree } from "../tools/testhost";

const why = cannotBootHosts();
if (why && process.env.MAILFLEET_E2E === "require") throw new Error(`Debian tool tests cannot run: ${why}`);

describe("rendered configuration under Debian's tools", { skip: why }, () => {
  let tree: string;
  let dir: string;
  let inTree: string;

  const chroot = (args: string[], input?: string) => {
    const r = spawnSync("chroot", [tree, ...args], { encoding: "utf8", input: input ?? "" });
    return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  };

  before(() => {
    tree = toolsTree();
    dir = fs.mkdtempSync(path.join(tree, "tmp", "unit-"));
    inTree = `/tmp/${path.basename(dir)}`;
    for (const f of [...postfixFiles(postfixSettings), dovecotConf(dovecotSettings)]) {
      fs.writeFileSync(path.join(dir, path.basename(f.path)), f.content);
    }
    fs.writeFileSync(path.join(dir, "sasl_passwd"), smarthostCredentials("unit", "[smtp.provider.example]:587", "acme", "pa ss:word").content);
    fs.copyFileSync(path.join(FILES_DIR, "usr/local/sbin/mailfleet-users"), path.join(dir, "mailfleet-users"));
    fs.chmodSync(path.join(dir, "mailfleet-users"), 0o755);
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("main.cf and master.cf pass postconf without a warning", () => {
    for (const flag of ["-n", "-M"]) {
      const r = chroot(["postconf", "-c", inTree, flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
    }
  });

  it("postconf shows the relay and submission policy as rendered", () => {
    const r = chroot(["postconf", "-c", inTree, "-h", "smtpd_relay_restrictions", "mynetworks", "smtpd_tls_auth_only", "smtpd_sasl_auth_enable"]);
    assert.equal(r.stdout, [
      "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
      "127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128 192.0.2.0/24 [2001:db8:1::]/64",
      "yes",
      "no",
      "",
    ].join("\n"));
    const m = chroot(["postconf", "-c", inTree, "-P", "submission/inet/smtpd_tls_security_level", "submissions/inet/smtpd_tls_wrappermode"]);
    assert.equal(m.stdout, "submission/inet/smtpd_tls_security_level = encrypt\nsubmissions/inet/smtpd_tls_wrappermode = yes\n");
  });

  it("passes postfix check", () => {
    const r = chroot(["postfix", "-c", inTree, "check"]);
    assert.equal(r.code, 0, r.stderr);
  });

  it("builds every map with postmap/postalias and answers lookups", () => {
    for (const map of ["vmail_domains", "vmail_mailboxes", "virtual", "sender_login", "sender_access", "transport", "tls_policy", "sasl_passwd"]) {
      const r = chroot(["postmap", "-c", inTree, `hash:${inTree}/${map}`]);
      assert.equal(r.code, 0, `${map}: ${r.stderr}`);
    }
    assert.equal(chroot(["postalias", "-c", inTree, `hash:${inTree}/aliases`]).code, 0);
    const q = (key: string, map: string) => chroot(["postmap", "-c", inTree, "-q", key, `hash:${inTree}/${map}`]).stdout.trim();
    assert.equal(q("postmaster@example.org", "virtual"), "john@example.com");
    assert.equal(q("example.org", "vmail_domains"), "OK");
    assert.equal(q("mary@example.org", "vmail_mailboxes"), "OK");
    assert.equal(q("info@example.com", "sender_login"), "john@example.com,mary@example.org");
    assert.equal(chroot(["postalias", "-c", inTree, "-q", "root", `hash:${inTree}/aliases`]).stdout.trim(), "john@example.com");
    assert.equal(q("[smtp.provider.example]:587", "tls_policy"), "secure match=smtp.provider.example");
    assert.equal(q("[smtp.provider.example]:587", "sasl_passwd"), "acme:pa ss:word");
    assert.equal(q("hacked-list.example", "sender_access"), "REJECT 5.7.1 Mail from this list is refused: list compromised");
    assert.equal(q("spammer@bad.example", "sender_access"), "550 5.7.1 Sender blocked by postmaster");
    assert.equal(q("gmail.example", "transport"), "smtp-ipv4:");
    assert.equal(q(".ipv6lab.example", "transport"), "smtp-ipv6:");
  });

  it("an IPv4-only host's main.cf, master.cf and dovecot.conf pass without a warning", () => {
    const v4 = path.join(dir, "ipv4");
    fs.mkdirSync(v4);
    const s = { ...postfixSettings, ipv4Only: true, addressFamilyRoutes: [{ destination: "example.net", family: 4 as const }] };
    const files = [...postfixFiles(s), dovecotConf({ ...dovecotSettings, ipv4Only: true })];
    for (const f of files) fs.writeFileSync(path.join(v4, path.basename(f.path)), f.content);
    for (const flag of ["-n", "-M"]) {
      const r = chroot(["postconf", "-c", `${inTree}/ipv4`, flag]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
    }
    assert.equal(chroot(["postconf", "-c", `${inTree}/ipv4`, "-h", "inet_protocols"]).stdout, "ipv4\n");
    assert.equal(chroot(["postconf", "-c", `${inTree}/ipv4`, "-M", "smtp-ipv6/unix"]).stdout, "");
    const d = chroot(["doveconf", "-n", "-c", `${inTree}/ipv4/dovecot.conf`]);
    assert.equal(d.stderr, "");
    assert.match(d.stdout, /^listen = \*$/m);
  });

  it("matches blocked client networks, IPv4 and IPv6, in the cidr table", () => {
    const q = (addr: string) => chroot(["postmap", "-c", inTree, "-q", addr, `cidr:${inTree}/client_access.cidr`]);
    assert.equal(q("198.51.100.77").stdout.trim(), "REJECT 5.7.1 Client network blocked");
    assert.equal(q("2001:db8:bad:1::9").stdout.trim(), "REJECT 5.7.1 Client network blocked");
    assert.equal(q("192.0.2.1").code, 1);
  });

  it("discards a read receipt but not a bounce, and strips only the authenticated client's hop", () => {
    const q = (header: string) => chroot(["postmap", "-c", inTree, "-q", header, `regexp:${inTree}/submission_header_checks`]);
    const mdn = q('Content-Type: multipart/report;\n\treport-type=disposition-notification;\n\tboundary="x"');
    assert.equal(mdn.stdout.trim(), "DISCARD outbound read receipt (MDN) suppressed");
    assert.equal(q('Content-Type: multipart/report;\n\treport-type=delivery-status;\n\tboundary="x"').code, 1);
    assert.equal(q("Received: from pc (unknown [203.0.113.9])\n\tby mail.example.net (Postfix) with ESMTPSA id 4Xyz;\n\tMon, 23 Nov 2026 10:00:00 +0000").stdout.trim(), "IGNORE");
    assert.equal(q("Received: from mx.remote.example (mx.remote.example [198.51.100.1])\n\tby mail.example.net (Postfix) with ESMTPS id 4Xyz;\n\tMon, 23 Nov 2026 10:00:00 +0000").code, 1);
    assert.equal(q("X-Mailer: SuperMailer 1.0").stdout.trim(), "IGNORE");
    assert.equal(q("MIME-Version: 1.0").code, 1);
  });

  it("fails validation on a misspelt parameter (what mailfleet-apply relies on)", () => {
    const bad = path.join(dir, "bad");
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, "main.cf"), `${mainCf(postfixSettings)}smtpd_relay_restriction = permit\n`);
    fs.copyFileSync(path.join(dir, "master.cf"), path.join(bad, "master.cf"));
    const r = chroot(["postconf", "-c", `${inTree}/bad`, "-n"]);
    assert.match(r.stderr, /unused parameter: smtpd_relay_restriction=permit/);
  });

  it("dovecot.conf passes doveconf without a warning and keeps PAM out", () => {
    const r = chroot(["doveconf", "-n", "-c", `${inTree}/dovecot.conf`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.doesNotMatch(r.stdout, /driver = pam/);
    assert.match(r.stdout, /passdb \{\n  args = \/etc\/dovecot\/dovecot-dict-auth\.conf\.ext\n  driver = dict\n\}/);
  });

  it("mailfleet-users writes SHA512-CRYPT hashes that doveadm verifies, and keeps them on a re-run", () => {
    const users = `${inTree}/users`;
    const input = "john@example.com\tsummersun-long\nmary@example.org\tanother-long-pw\n@@done 2\n";
    const first = chroot(["perl", `${inTree}/mailfleet-users`, "5000", users], input);
    assert.equal(first.stdout, `changed ${users} (0 kept by digest, 0 kept by crypt, 2 hashed)\n`, first.stderr);
    const text = fs.readFileSync(path.join(dir, "users"), "utf8");
    const john = /^john@example\.com:(\{SHA512-CRYPT\}\$6\$rounds=5000\$[^:]+)::::::$/m.exec(text);
    assert.ok(john, text);
    const verify = chroot(["doveadm", "pw", "-t", john[1], "-p", "summersun-long"]);
    assert.match(verify.stdout, /\(verified\)/, verify.stderr);
    assert.doesNotMatch(text, /summersun-long|another-long-pw/);
    const second = chroot(["perl", `${inTree}/mailfleet-users`, "5000", users], input);
    // The tools tree has perl-base only (no Digest::SHA): the crypt() fallback decides. The
    // digest path runs on the real host (test/e2e/mail-host.test.ts).
    assert.equal(second.stdout, `unchanged: ${users} (0 by digest, 2 by crypt)\n`);
    assert.equal(fs.readFileSync(path.join(dir, "users"), "utf8"), text);
    const stat = fs.statSync(path.join(dir, "users"));
    assert.equal((stat.mode & 0o777).toString(8), "640");
    // The passdb's dict: the same hashes under Dovecot's shared/passdb/ keys, JSON values.
    const dict = fs.readFileSync(path.join(dir, "users.dict"), "utf8");
    assert.equal(dict, `shared/passdb/john@example.com\n{"password":"${john[1]}"}\nshared/passdb/mary@example.org\n{"password":"${/^mary@example\.org:([^:]+)::::::$/m.exec(text)![1]}"}\n`);
    assert.equal((fs.statSync(path.join(dir, "users.dict")).mode & 0o777).toString(8), "640");
  });
});
