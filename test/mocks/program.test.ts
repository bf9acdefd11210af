// The real program (index.ts) under pulumi.runtime.setMocks: the exact resources, their parents
// and dependencies, and where secrets go. What this does not prove: that the commands work on a
// host (see test/e2e), or anything the Pulumi engine adds (diffs, state encryption).
import assert from "node:assert/strict";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";

const PASSWORDS = { "alice@example.test": "alice-secret-pw-1", "bob@example.test": "bob-secret-pw-22" };
const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nmock-private-key-material\n-----END OPENSSH PRIVATE KEY-----\n";
const TLS_KEY = "-----BEGIN RSA PRIVATE KEY-----\nmock-tls-key-material\n-----END RSA PRIVATE KEY-----\n";
const SECRET_STRINGS = [...Object.values(PASSWORDS), "mock-private-key-material", "mock-tls-key-material"];

interface Registered {
  type: string;
  name: string;
  parent: string;
  dependencies: string[];
  inputs: Record<string, unknown>;
}

const registered: Registered[] = [];
const byUrn = new Map<string, string>();

/** Walks a value; `visit` sees every string with whether it sits inside a secret. */
function walk(value: unknown, visit: (s: string, secret: boolean) => void, secret = false): void {
  if (pulumi.runtime.isRpcSecret(value)) return walk(pulumi.runtime.unwrapRpcSecret(value), visit, true);
  if (typeof value === "string") return visit(value, secret);
  if (Array.isArray(value)) return value.forEach((v) => walk(v, visit, secret));
  if (value && typeof value === "object") Object.values(value).forEach((v) => walk(v, visit, secret));
}

before(async () => {
  await pulumi.runtime.setMocks({
    newResource: async (args) => {
      const state: Record<string, unknown> = { ...args.inputs };
      if (args.type.startsWith("pulumi-nodejs:dynamic")) {
        Object.assign(state, { certPem: "-----BEGIN CERTIFICATE-----\nmock\n-----END CERTIFICATE-----\n", privateKeyPem: TLS_KEY, notAfter: "2028-01-01T00:00:00.000Z" });
      }
      return { id: `${args.name}-id`, state };
    },
    call: (args) => {
      throw new Error(`unexpected call ${args.token}`);
    },
  }, "mailfleet", "mock-test", false);
  // The mock monitor's request carries parent and dependencies (internal API, measured on 3.270).
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: any, cb: any): void };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, cb: any) => {
    original(req, (err: unknown, res: any) => {
      if (!err) {
        byUrn.set(res.getUrn(), req.getName());
        registered.push({
          type: req.getType(),
          name: req.getName(),
          parent: req.getParent(),
          dependencies: req.getDependenciesList(),
          inputs: pulumi.runtime.deserializeProperties(req.getObject()),
        });
      }
      cb(err, res);
    });
  };
  pulumi.runtime.setAllConfig({
    "mailfleet:hostAddress": "192.0.2.10",
    "mailfleet:sshPrivateKey": PRIVATE_KEY,
    "mailfleet:sshHostKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
    "mailfleet:hostname": "mail.example.net",
    "mailfleet:domains": JSON.stringify(["example.test"]),
    "mailfleet:mailboxes": JSON.stringify(Object.keys(PASSWORDS)),
    "mailfleet:mailboxPasswords": Object.entries(PASSWORDS).map(([a, p]) => `${a}: ${p}`).join("\n"),
    "mailfleet:aliases": JSON.stringify(["info@example.test: alice@example.test"]),
  }, ["mailfleet:sshPrivateKey", "mailfleet:mailboxPasswords"]);
  await pulumi.runtime.runInPulumiStack(async () => require(path.join(__dirname, "..", "..", "index.ts")));
  await pulumi.runtime.disconnect();
  await new Promise((r) => setTimeout(r, 100));
});

function custom(name: string): Registered {
  const r = registered.find((x) => x.name === name);
  assert.ok(r, `resource ${name} was not registered`);
  return r;
}

describe("the program's resources", () => {
  it("registers exactly the components and steps, each under its parent", () => {
    const tree = registered.map((r) => `${byUrn.get(r.parent) ?? "-"} > ${r.name} (${r.type})`).sort();
    assert.deepEqual(tree, [
      "- > mailfleet-mock-test (pulumi:pulumi:Stack)",
      "mail > mail-dovecot (mailfleet:mail:Dovecot)",
      "mail > mail-host (mailfleet:host:DebianHost)",
      "mail > mail-postfix (mailfleet:mail:Postfix)",
      "mail > mail-tls (mailfleet:tls:SelfSignedCertificate)",
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

  it("orders the steps: host, certificate, Dovecot (vmail, users, config), then Postfix", () => {
    const deps = (name: string) => custom(name).dependencies.map((u) => byUrn.get(u)).sort();
    assert.deepEqual(deps("mail-host-packages"), ["mail-host-bootstrap"]);
    assert.deepEqual(deps("mail-tls-install"), ["mail-host-packages", "mail-tls-cert"]);
    assert.deepEqual(deps("mail-dovecot-vmail"), ["mail-tls-install"]);
    assert.deepEqual(deps("mail-dovecot-users"), ["mail-dovecot-vmail"]);
    assert.deepEqual(deps("mail-dovecot-config"), ["mail-dovecot-users"]);
    assert.deepEqual(deps("mail-postfix-config"), ["mail-dovecot-config"]);
  });

  it("runs fixed command lines and sends data on stdin", () => {
    const creates = Object.fromEntries(registered.filter((r) => r.type === "command:remote:Command").map((r) => [r.name, r.inputs.create]));
    assert.deepEqual(creates, {
      "mail-host-bootstrap": "bash -s",
      "mail-host-packages": "bash -s",
      "mail-tls-install": "/usr/local/sbin/mailfleet-apply tls",
      "mail-dovecot-vmail": "bash -s",
      "mail-dovecot-users": "/usr/local/sbin/mailfleet-users 100000",
      "mail-dovecot-config": "/usr/local/sbin/mailfleet-apply dovecot",
      "mail-postfix-config": "/usr/local/sbin/mailfleet-apply postfix",
    });
    for (const r of registered.filter((x) => x.type === "command:remote:Command")) {
      assert.equal(r.inputs.addPreviousOutputInEnv, false, `${r.name}: Debian's sshd refuses PULUMI_COMMAND_* Setenv`);
      assert.equal(r.inputs.environment, undefined, r.name);
    }
  });
});

describe("secrets", () => {
  it("keeps every connection (it holds the SSH key) secret and pins the host key", () => {
    for (const r of registered.filter((x) => x.type === "command:remote:Command")) {
      assert.ok(pulumi.runtime.isRpcSecret(r.inputs.connection), `${r.name}: connection must be secret`);
      const conn = pulumi.runtime.unwrapRpcSecret(r.inputs.connection) as Record<string, unknown>;
      // Exactly these fields: an unknown one makes the provider print the object, key included.
      assert.deepEqual(Object.keys(conn).sort(), ["dialErrorLimit", "host", "hostKey", "perDialTimeout", "port", "privateKey", "user"]);
      if (r.name === "mail-host-bootstrap") assert.equal(conn.dialErrorLimit, 60);
      assert.match(String(conn.hostKey), /^ssh-ed25519 /);
    }
  });

  it("sends passwords and the TLS key only inside secret stdin", () => {
    const users = custom("mail-dovecot-users").inputs.stdin;
    assert.ok(pulumi.runtime.isRpcSecret(users));
    assert.equal(pulumi.runtime.unwrapRpcSecret(users), "alice@example.test\talice-secret-pw-1\nbob@example.test\tbob-secret-pw-22\n");
    const tls = custom("mail-tls-install").inputs.stdin;
    assert.ok(pulumi.runtime.isRpcSecret(tls));
    assert.match(String(pulumi.runtime.unwrapRpcSecret(tls)), /^@@file \/etc\/ssl\/private\/mail\.example\.net\.key 0600 root root plain\n-----BEGIN RSA PRIVATE KEY-----/);
  });

  it("has no plaintext password or private key in any non-secret input", () => {
    const leaks: string[] = [];
    for (const r of registered) {
      walk(r.inputs, (s, secret) => {
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
