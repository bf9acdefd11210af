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
const mainCf = (from: Registered[]) => {
  const bundle = String(step(from, "mail-postfix-config")?.inputs.stdin ?? "");
  return bundle.slice(bundle.indexOf("@@file /etc/postfix/main.cf "), bundle.indexOf("@@end", bundle.indexOf("@@file /etc/postfix/main.cf ")));
};

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
    assert.match(mainCf(on), /^lmtp_generic_maps = tcp:127\.0\.0\.1:10002$/m);
  });

  it("has no step, no package and no table with srsForwarding off", () => {
    assert.equal(step(off, "mail-srs"), undefined);
    assert.doesNotMatch(packages(off), /postsrsd/);
    assert.doesNotMatch(mainCf(off), /canonical_maps|generic_maps/);
    assert.match(mainCf(off), /^# SRS off \(mailfleet:srsForwarding\)/m);
  });
});
