// SRS under mocks: postsrsd's settings go through their own apply step before Postfix's, which
// names its tables; with srsForwarding off there is no such step, no package and no table in
// main.cf. Does not prove that forwarded mail is rewritten (test/e2e/dns.test.ts, real Postfix).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { fullStack } from "../fixtures/stacks";
import { Registered, runProgramUnderMocks } from "../tools/mock-program";

let on: Registered[] = [];
let off: Registered[] = [];

before(async () => {
  on = await runProgramUnderMocks(fullStack.config, fullStack.secretKeys);
  off = await runProgramUnderMocks({ ...fullStack.config, "mailfleet:srsForwarding": "false" }, fullStack.secretKeys);
});

const step = (from: Registered[], name: string) => from.find((r) => r.name === name);
const packages = (from: Registered[]) => String(step(from, "mail-host-packages")?.inputs.stdin ?? "");
const postfixFile = (from: Registered[], path: string) => {
  const bundle = String(step(from, "mail-postfix-config")?.inputs.stdin ?? "");
  const at = bundle.indexOf(`@@file ${path} `);
  assert.ok(at >= 0, `${path} is not in the Postfix bundle`);
  return bundle.slice(at, bundle.indexOf("@@end", at));
};
const mainCf = (from: Registered[]) => postfixFile(from, "/etc/postfix/main.cf");

describe("SRS for forwarded mail", () => {
  it("installs postsrsd's settings with the host name and the hosted domains before Postfix names its tables", () => {
    const srs = step(on, "mail-srs");
    assert.ok(srs, "no mail-srs step");
    assert.equal(srs.inputs.create, "/usr/local/sbin/mailfleet-apply postsrsd");
    assert.match(String(srs.inputs.stdin), /^@@file \/etc\/default\/postsrsd 0644 root root plain$/m);
    assert.match(String(srs.inputs.stdin), /^SRS_DOMAIN=mail\.example\.net$/m);
    assert.match(String(srs.inputs.stdin), /^SRS_EXCLUDE_DOMAINS=example\.test$/m);
    // Deleted with srsForwarding off only once main.cf has let go of the tables.
    assert.match(String(srs.inputs.delete), /postconf -h sender_canonical_maps recipient_canonical_maps lmtp_generic_maps \| grep -qF 127\.0\.0\.1:10001; then systemctl disable --now --quiet postsrsd/);
    assert.ok(step(on, "mail-postfix-config")?.dependencies.includes("mail-srs"));
    assert.match(packages(on), / postsrsd( |$)/m);
    assert.match(mainCf(on), /^sender_canonical_maps = tcp:127\.0\.0\.1:10001$/m);
    const reverse = "pipemap:{regexp:/etc/postfix/srs_reverse, tcp:127.0.0.1:10002}";
    assert.ok(mainCf(on).split("\n").includes(`lmtp_generic_maps = ${reverse}`), mainCf(on));
    assert.ok(mainCf(on).split("\n").includes(`recipient_canonical_maps = ${reverse}`), mainCf(on));
  });

  // The filter's one rule, read as a JavaScript RegExp: Postfix's regexp table is POSIX and
  // case-insensitive by default, and this pattern uses nothing the two read differently.
  it("hands postsrsd's reverse table only SRS addresses of the host name", () => {
    const rules = postfixFile(on, "/etc/postfix/srs_reverse").split("\n").filter((l) => l.startsWith("/"));
    assert.equal(rules.length, 1, rules.join("\n"));
    const [, pattern, result] = /^\/(.*)\/ (.*)$/.exec(rules[0])!;
    assert.equal(result, "${1}");
    const passes = (address: string) => new RegExp(pattern, "i").test(address);
    for (const a of ["SRS0=Ab3d=JP=dual.test=origin@mail.example.net", "srs1=Zx9q=dual.test==Ab3d=JP=a.test=o@MAIL.example.net", "SRS0+Ab3d=JP=dual.test=origin@mail.example.net"]) {
      assert.ok(passes(a), a);
    }
    for (const a of ["bob@example.test", "SRS0=Ab3d=JP=dual.test=origin@example.test", "xSRS0=Ab3d=JP=d.test=o@mail.example.net", "SRS0=Ab3d=JP=dual.test=origin@mailXexample.net", "SRS0=Ab3d=JP=dual.test=origin@mail.example.net.evil.test", "@mail.example.net"]) {
      assert.ok(!passes(a), a);
    }
  });

  it("has no step, no package and no table with srsForwarding off", () => {
    assert.equal(step(off, "mail-srs"), undefined);
    assert.doesNotMatch(packages(off), /postsrsd/);
    assert.doesNotMatch(mainCf(off), /canonical_maps|generic_maps/);
    assert.match(mainCf(off), /^# SRS off \(mailfleet:srsForwarding\)/m);
  });
});
