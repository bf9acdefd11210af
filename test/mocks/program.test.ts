// The real program (index.ts) under pulumi.runtime.setMocks: the exact resources, their parents
// and dependencies, and where secrets go. What this does not prove: that the commands work on a
// host (see test/e2e), or anything the Pulumi engine adds (diffs, state encryption).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { Registered, runProgramUnderMocks, walkStrings } from "../tools/mock-program";

const PASSWORDS = { "alice@example.test": "alice-secret-pw-1", "bob@example.test": "bob-secret-pw-22" };
const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nmock-private-key-material\n-----END OPENSSH PRIVATE KEY-----\n";
const SECRET_STRINGS = [...Object.values(PASSWORDS), "mock-private-key-material", "mock-tls-key-material"];

let registered: Registered[] = [];

before(async () => {
  registered = await runProgramUnderMocks({
    "mailfleet:hostAddress": "192.0.2.10",
    "mailfleet:sshPrivateKey": PRIVATE_KEY,
    "mailfleet:sshHostKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
    "mailfleet:hostname": "mail.example.net",
    "mailfleet:domains": JSON.stringify(["example.test"]),
    "mailfleet:mailboxes": JSON.stringify(Object.keys(PASSWORDS)),
    "mailfleet:mailboxPasswords": Object.entries(PASSWORDS).map(([a, p]) => `${a}: ${p}`).join("\n"),
    "mailfleet:aliases": JSON.stringify(["info@example.test: alice@example.test"]),
  }, ["mailfleet:sshPrivateKey", "mailfleet:mailboxPasswords"]);
});

function custom(name: string): Registered {
  const r = registered.find((x) => x.name === name);
  assert.ok(r, `resource ${name} was not registered`);
  return r;
}

describe("the program's resources", () => {
  it("registers exactly the components and steps, each under its parent", () => {
    const tree = registered.map((r) => `${r.parent} > ${r.name} (${r.type})`).sort();
    assert.deepEqual(tree, [
      "- > mailfleet-mock-test (pulumi:pulumi:Stack)",
      "mail > mail-dh (mailfleet:tls:DhParams)",
      "mail > mail-dkim (mailfleet:dkim:DkimSigner)",
      "mail > mail-dovecot (mailfleet:mail:Dovecot)",
      "mail > mail-drift-timer (command:remote:Command)",
      "mail > mail-host (mailfleet:host:DebianHost)",
      "mail > mail-postfix (mailfleet:mail:Postfix)",
      "mail > mail-srs (command:remote:Command)",
      "mail > mail-tls (mailfleet:tls:SelfSignedCertificate)",
      "mail-dh > mail-dh-install (command:remote:Command)",
      "mail-dh > mail-dh-timer (command:remote:Command)",
      "mail-dkim > mail-dkim-key-mf1 (pulumi-nodejs:dynamic/mailfleet:DkimKey)",
      "mail-dkim > mail-dkim-rspamd (command:remote:Command)",
      "mail-dovecot > mail-dovecot-config (command:remote:Command)",
      "mail-dovecot > mail-dovecot-users (command:remote:Command)",
      "mail-dovecot > mail-dovecot-vmail (command:remote:Command)",
      "mail-host > mail-host-bootstrap (command:remote:Command)",
      "mail-host > mail-host-packages (command:remote:Command)",
      "mail-postfix > mail-postfix-config (command:remote:Command)",
      "mail-tls > mail-tls-cert (pulumi-nodejs:dynamic/mailfleet:SelfSignedCertificate)",
      "mail-tls > mail-tls-install (command:remote:Command)",
      "mailfleet-mock-test > mail (mailfleet:index:MailServer)",
    ]);
  });

  it("orders the steps: host, certificate and DH parameters, Dovecot (vmail, users, config), then Postfix", () => {
    const deps = (name: string) => custom(name).dependencies;
    assert.deepEqual(deps("mail-host-packages"), ["mail-host-bootstrap"]);
    assert.deepEqual(deps("mail-tls-install"), ["mail-host-packages", "mail-tls-cert"]);
    assert.deepEqual(deps("mail-dh-install"), ["mail-host-packages"]);
    assert.deepEqual(deps("mail-dh-timer"), ["mail-dh-install"]);
    assert.deepEqual(deps("mail-dovecot-vmail"), ["mail-dh-install", "mail-tls-install"]);
    assert.deepEqual(deps("mail-dovecot-users"), ["mail-dovecot-vmail"]);
    // The limits in dovecot.conf and main.cf derive from the host size the package step reads.
    assert.deepEqual(deps("mail-dovecot-config").sort(), ["mail-dovecot-users", "mail-host-packages"]);
    // main.cf names postsrsd's tables: it runs with the stack's settings first.
    assert.deepEqual(deps("mail-srs"), ["mail-host-packages"]);
    assert.deepEqual(deps("mail-postfix-config").sort(), ["mail-dovecot-config", "mail-host-packages", "mail-srs"]);
    // Rspamd signs once Postfix names its milter (and, with a DNS provider, once the key is published).
    assert.deepEqual(deps("mail-dkim-rspamd").sort(), ["mail-dkim-key-mf1", "mail-host-packages", "mail-postfix-config"]);
  });

  it("runs fixed command lines and sends data on stdin", () => {
    const creates = Object.fromEntries(registered.filter((r) => r.type === "command:remote:Command").map((r) => [r.name, r.inputs.create]));
    assert.deepEqual(creates, {
      "mail-host-bootstrap": "bash -s",
      "mail-host-packages": "bash -s",
      "mail-tls-install": "/usr/local/sbin/mailfleet-apply tls",
      "mail-dh-install": "/usr/local/sbin/mailfleet-dhparams install regenerate 3072",
      "mail-dh-timer": "/usr/local/sbin/mailfleet-apply systemd mailfleet-dhparams",
      "mail-dovecot-vmail": "bash -s",
      "mail-dovecot-users": "/usr/local/sbin/mailfleet-users 100000 /etc/dovecot/users",
      "mail-dovecot-config": "/usr/local/sbin/mailfleet-apply dovecot",
      "mail-postfix-config": "/usr/local/sbin/mailfleet-apply postfix",
      "mail-srs": "/usr/local/sbin/mailfleet-apply postsrsd",
      "mail-dkim-rspamd": "/usr/local/sbin/mailfleet-apply rspamd",
      "mail-drift-timer": "/usr/local/sbin/mailfleet-apply systemd mailfleet-drift",
    });
    for (const r of registered.filter((x) => x.type === "command:remote:Command")) {
      assert.equal(r.inputs.addPreviousOutputInEnv, false, `${r.name}: Debian's sshd refuses PULUMI_COMMAND_* Setenv`);
      assert.equal(r.inputs.environment, undefined, r.name);
    }
  });
});

describe("the package step", () => {
  it("is a script bash accepts, which waits for debconf and dpkg locks and finishes an interrupted dpkg", () => {
    const script = String(custom("mail-host-packages").inputs.stdin);
    const r = spawnSync("bash", ["-n"], { input: script, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(script, /^retry debconf-set-selections "\$log\.debconf"$/m);
    assert.match(script, /^retry dpkg --force-confold --configure -a <\/dev\/null$/m);
    assert.match(script, /'postfix postfix\/main_mailer_type select Local only' 'postfix postfix\/mailname string mail\.example\.net'/);
  });
});

describe("secrets", () => {
  it("keeps every connection (it holds the SSH key) secret and pins the host key", () => {
    for (const r of registered.filter((x) => x.type === "command:remote:Command")) {
      assert.ok(pulumi.runtime.isRpcSecret(r.inputs.connection), `${r.name}: connection must be secret`);
      const conn = pulumi.runtime.unwrapRpcSecret(r.inputs.connection) as Record<string, unknown>;
      // Exactly these fields: an unknown one makes the provider print the object, key included.
      assert.deepEqual(Object.keys(conn).sort(), ["dialErrorLimit", "host", "hostKey", "perDialTimeout", "port", "privateKey", "user"]);
      if (r.name === "mail-host-bootstrap") assert.equal(conn.dialErrorLimit, 18);
      assert.match(String(conn.hostKey), /^ssh-ed25519 /);
    }
  });

  it("sends passwords and the TLS key only inside secret stdin", () => {
    const users = custom("mail-dovecot-users").inputs.stdin;
    assert.ok(pulumi.runtime.isRpcSecret(users));
    assert.equal(pulumi.runtime.unwrapRpcSecret(users), "alice@example.test\talice-secret-pw-1\nbob@example.test\tbob-secret-pw-22\n@@done 2\n");
    const tls = custom("mail-tls-install").inputs.stdin;
    assert.ok(pulumi.runtime.isRpcSecret(tls));
    assert.match(String(pulumi.runtime.unwrapRpcSecret(tls)), /^@@file \/etc\/ssl\/private\/mail\.example\.net\.key 0600 root root plain\n-----BEGIN RSA PRIVATE KEY-----/);
  });

  it("keeps the output of every step that receives a secret out of logs and plaintext state", () => {
    const secretSteps = ["mail-dovecot-users", "mail-tls-install", "mail-dkim-rspamd"];
    for (const r of registered.filter((x) => x.type === "command:remote:Command")) {
      const secret = secretSteps.includes(r.name);
      assert.equal(r.inputs.logging, secret ? "none" : undefined, `${r.name}: logging`);
      // @pulumi/command itself always adds "connection" (it holds the SSH key).
      assert.deepEqual(r.options.additionalSecretOutputs.sort(), (secret ? ["connection", "stderr", "stdout"] : ["connection"]), `${r.name}: additionalSecretOutputs`);
    }
  });

  it("keeps the generated TLS key a secret output of the certificate resource", () => {
    assert.ok(custom("mail-tls-cert").options.additionalSecretOutputs.includes("privateKeyPem"));
  });

  it("keeps the DKIM key a secret output, and its size fixed once it is published", () => {
    assert.ok(custom("mail-dkim-key-mf1").options.additionalSecretOutputs.includes("privateKeyPem"));
    assert.deepEqual(custom("mail-dkim-key-mf1").options.ignoreChanges, ["keyBits"]);
  });

  it("has no plaintext password or private key in any non-secret input", () => {
    const leaks: string[] = [];
    for (const r of registered) {
      walkStrings(r.inputs, (s, secret) => {
        if (!secret && SECRET_STRINGS.some((x) => s.includes(x))) leaks.push(`${r.name}: ${s.slice(0, 40)}`);
      });
    }
    assert.deepEqual(leaks, []);
  });

  it("never puts a secret into command text", () => {
    for (const r of registered.filter((x) => x.type === "command:remote:Command")) {
      assert.ok(!pulumi.runtime.isRpcSecret(r.inputs.create), `${r.name}: create must stay readable`);
      for (const s of SECRET_STRINGS) assert.ok(!String(r.inputs.create).includes(s));
    }
  });
});
