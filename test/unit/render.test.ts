// Rendering: golden files compared byte for byte (regenerate with UPDATE_GOLDEN=1 and review the
// diff like code), determinism, and the renderer's and bundle encoder's refusals.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { rspamdFiles } from "../../components/dkim/render";
import { dictAuthConf, dovecotConf, imapSessionsFile } from "../../components/dovecot/render";
import { postfixFiles, senderLoginTable, smarthostCredentials, virtualAliasTable } from "../../components/postfix/render";
import { postsrsdFiles } from "../../components/postfix/srs";
import { encodeBundle, HostFile } from "../../components/host/bundle";
import { renderTemplate } from "../../components/render/template";
import { dovecotSettings, postfixSettings } from "../fixtures/settings";

const GOLDEN = path.join(__dirname, "..", "golden");

function all(): HostFile[] {
  return [
    ...postfixFiles(postfixSettings),
    dovecotConf(dovecotSettings),
    dictAuthConf(dovecotSettings.stack),
    imapSessionsFile(dovecotSettings),
    ...rspamdFiles({ stack: postfixSettings.stack, domains: postfixSettings.domains, selector: "mf2027" }),
    ...postsrsdFiles({ stack: postfixSettings.stack, hostname: postfixSettings.hostname, domains: postfixSettings.domains }),
  ];
}

describe("rendered files", () => {
  for (const file of all()) {
    it(`${file.path} matches its golden file`, () => {
      const golden = path.join(GOLDEN, file.path);
      if (process.env.UPDATE_GOLDEN) {
        fs.mkdirSync(path.dirname(golden), { recursive: true });
        fs.writeFileSync(golden, file.content);
      }
      assert.equal(file.content, fs.readFileSync(golden, "utf8"));
    });
  }

  it("renders byte-identical output twice (no spurious preview diffs)", () => {
    assert.equal(encodeBundle(all()), encodeBundle(all()));
  });

  it("installs files with the owners and modes of docs/host-apply.md and docs/tls.md", () => {
    assert.deepEqual(
      all().map((f) => `${f.path} ${f.owner}:${f.group} ${f.mode} ${f.kind}`),
      [
        "/etc/mailname root:root 0644 plain",
        "/etc/aliases root:root 0644 postalias",
        "/etc/postfix/vmail_domains root:root 0644 postmap",
        "/etc/postfix/vmail_mailboxes root:root 0644 postmap",
        "/etc/postfix/virtual root:root 0644 postmap",
        "/etc/postfix/sender_login root:root 0644 postmap",
        "/etc/postfix/sender_access root:root 0644 postmap",
        "/etc/postfix/client_access.cidr root:root 0644 plain",
        "/etc/postfix/transport root:root 0644 postmap",
        "/etc/postfix/tls_policy root:root 0644 postmap",
        "/etc/postfix/submission_header_checks root:root 0644 plain",
        "/etc/postfix/srs_reverse root:root 0644 plain",
        "/etc/postfix/master.cf root:root 0644 plain",
        "/etc/postfix/main.cf root:root 0644 plain",
        "/etc/dovecot/dovecot.conf root:root 0644 plain",
        "/etc/dovecot/dovecot-dict-auth.conf.ext root:root 0644 plain",
        "/etc/dovecot/mailfleet-imap-sessions root:root 0644 plain",
        "/etc/rspamd/local.d/dkim_signing.conf root:root 0644 plain",
        "/etc/rspamd/local.d/settings.conf root:root 0644 plain",
        "/etc/rspamd/override.d/options.inc root:root 0644 plain",
        "/etc/rspamd/override.d/worker-proxy.inc root:root 0644 plain",
        "/etc/default/postsrsd root:root 0644 plain",
      ],
    );
  });
});

describe("lookup tables", () => {
  it("routes postmaster@ and abuse@ of every domain unless aliased explicitly", () => {
    assert.deepEqual(virtualAliasTable(postfixSettings).entries, [
      ["postmaster@example.com", "john@example.com"],
      ["abuse@example.com", "john@example.com"],
      ["postmaster@example.org", "john@example.com"],
      ["info@example.com", "john@example.com,mary@example.org"],
      ["abuse@example.org", "mary@example.org"],
      ["sales@example.com", "info@example.com,partner@external.test"],
    ]);
  });

  it("generates no role alias over a mailbox of that name, so each map lists it once", () => {
    const s = { ...postfixSettings, mailboxes: [...postfixSettings.mailboxes, "postmaster@example.com"] };
    assert.deepEqual(virtualAliasTable(s).entries.map(([k]) => k).filter((k) => k.startsWith("postmaster@")), ["postmaster@example.org"]);
    const keys = senderLoginTable(s).entries.map(([k]) => k);
    assert.deepEqual(keys.filter((k) => k === "postmaster@example.com"), ["postmaster@example.com"]);
    assert.equal(new Set(keys).size, keys.length, "a key twice makes postmap warn and the apply fail");
  });

  it("lets a login send as its mailbox and as the aliases that reach it", () => {
    assert.deepEqual(senderLoginTable(postfixSettings).entries, [
      ["john@example.com", "john@example.com"],
      ["mary@example.org", "mary@example.org"],
      ["postmaster@example.com", "john@example.com"],
      ["abuse@example.com", "john@example.com"],
      ["postmaster@example.org", "john@example.com"],
      ["info@example.com", "john@example.com,mary@example.org"],
      ["abuse@example.org", "mary@example.org"],
      ["sales@example.com", "john@example.com,mary@example.org"],
    ]);
  });
});

describe("renderTemplate", () => {
  it("fails on a placeholder without a value", () => {
    assert.throws(() => renderTemplate("etc/mailname", {}), /no value for \{\{hostname\}\}/);
  });
  it("renders values that contain braces (a password like pa}}ss{{word)", () => {
    const f = smarthostCredentials("s", "[smtp.provider.example]:587", "acme", "pa}}ss{{word");
    assert.match(f.content, /^\[smtp\.provider\.example\]:587 +acme:pa\}\}ss\{\{word$/m);
  });

  it("fails on a value the template does not use", () => {
    assert.throws(() => renderTemplate("etc/mailname", { hostname: "a.b", extra: "x" }), /unused values extra/);
  });
});

describe("encodeBundle", () => {
  const f: HostFile = { path: "/etc/x", owner: "root", group: "root", mode: "0644", kind: "plain", content: "a\n" };
  it("frames each file with a header and an end line", () => {
    assert.equal(encodeBundle([f]), "@@file /etc/x 0644 root root plain\na\n@@end\n@@done 1\n");
  });
  it("fails on content that could end the frame early", () => {
    assert.throws(() => encodeBundle([{ ...f, content: "@@end\n" }]), /line starting with @@/);
  });
  it("fails on a path with a space, a bad mode or a missing final newline", () => {
    assert.throws(() => encodeBundle([{ ...f, path: "/etc/a b" }]), /bad host path/);
    // One spelling per file: the host prunes by path, so two names for one file would delete it.
    for (const path of ["/etc//x", "/etc/./x", "/etc/../etc/x", "/etc/x/.."]) assert.throws(() => encodeBundle([{ ...f, path }]), /bad host path/, path);
    assert.throws(() => encodeBundle([{ ...f, mode: "644" }]), /bad mode/);
    assert.throws(() => encodeBundle([{ ...f, content: "a" }]), /must end with a newline/);
  });
});
