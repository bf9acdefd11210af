// Each named security check: the rendered configuration complies, and a targeted change to it
// (the kind a careless override or an old guide would make) fails with the check's ID.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertSecure, parsePostfix, RenderedPostfix, SECURITY_CHECKS, SecurityCheckError } from "../../components/checks/security-checks";
import { dovecotConf } from "../../components/dovecot/render";
import { mainCf, masterCf } from "../../components/postfix/render";
import { dovecotSettings, postfixSettings } from "../fixtures/settings";

const dovecot = dovecotConf(dovecotSettings).content;
const rendered: RenderedPostfix = { mainCf: mainCf(postfixSettings), masterCf: masterCf(postfixSettings), dovecotConf: dovecot, dhParamBits: 3072 };
const plain: RenderedPostfix = {
  mainCf: mainCf({ ...postfixSettings, postscreenDnsblSites: [] }),
  masterCf: masterCf({ ...postfixSettings, postscreenDnsblSites: [] }),
  dovecotConf: dovecot,
  dhParamBits: 4096,
};
const setDovecot = (text: string, name: string, value: string) => text.replace(new RegExp(`^${name} = .*$`, "m"), `${name} = ${value}`);

function setMain(text: string, name: string, value: string): string {
  const re = new RegExp(`^${name} = .*$`, "m");
  return re.test(text) ? text.replace(re, `${name} = ${value}`) : `${text}${name} = ${value}\n`;
}

function failing(r: RenderedPostfix): string[] {
  const p = parsePostfix(r);
  return SECURITY_CHECKS.filter((c) => c.evaluate(p) !== undefined).map((c) => c.id);
}

const violations: Array<[string, string, (r: RenderedPostfix) => RenderedPostfix]> = [
  ["MAIL-RELAY-1", "relay restrictions ending in defer_unauth_destination (Debian's compat default)", (r) => ({ ...r, mainCf: setMain(r.mainCf, "smtpd_relay_restrictions", "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination") })],
  ["MAIL-RELAY-1", "a bare permit before reject_unauth_destination", (r) => ({ ...r, mainCf: setMain(r.mainCf, "smtpd_relay_restrictions", "permit_mynetworks, permit, reject_unauth_destination") })],
  ["MAIL-RELAY-2", "submission relaying for everyone", (r) => ({ ...r, masterCf: r.masterCf.replace("-o smtpd_relay_restrictions=permit_sasl_authenticated,reject", "-o smtpd_relay_restrictions=permit") })],
  ["MAIL-AUTH-1", "AUTH on 25 without smtpd_tls_auth_only", (r) => ({ ...r, mainCf: setMain(setMain(setMain(r.mainCf, "smtpd_sasl_auth_enable", "yes"), "smtpd_tls_auth_only", "no"), "smtpd_tls_protocols", ">=TLSv1.2") })],
  ["MAIL-AUTH-2", "submission without required TLS", (r) => ({ ...r, mainCf: setMain(r.mainCf, "smtpd_tls_protocols", ">=TLSv1.2"), masterCf: r.masterCf.replace("-o smtpd_tls_security_level=encrypt\n  -o smtpd_sasl_auth_enable=yes\n  -o smtpd_tls_auth_only=yes", "-o smtpd_sasl_auth_enable=yes\n  -o smtpd_tls_auth_only=yes") })],
  ["MAIL-AUTH-2", "submission accepting unauthenticated clients", (r) => ({ ...r, mainCf: setMain(r.mainCf, "mua_client_restrictions", "permit_mynetworks, permit") })],
  ["MAIL-TLS-1", "encrypt on port 25 (an old guide's advice)", (r) => ({ ...r, mainCf: setMain(r.mainCf, "smtpd_tls_security_level", "encrypt") })],
  ["MAIL-TLS-2", "Postfix's own cipher list (anonymous suites included) where AUTH is offered", (r) => ({ ...r, mainCf: setMain(r.mainCf, "smtpd_tls_exclude_ciphers", "EXPORT, RC4") })],
  ["MAIL-TLS-2", "Dovecot ciphers without !aNULL", (r) => ({ ...r, dovecotConf: setDovecot(r.dovecotConf!, "ssl_cipher_list", "HIGH:!eNULL") })],
  ["MAIL-TLS-3", "submission accepting TLS 1.0", (r) => ({ ...r, mainCf: setMain(r.mainCf, "smtpd_tls_mandatory_protocols", ">=TLSv1") })],
  ["MAIL-TLS-3", "OpenSSL's automatic 2048-bit DH group", (r) => ({ ...r, mainCf: setMain(r.mainCf, "smtpd_tls_dh1024_param_file", "auto"), dovecotConf: r.dovecotConf!.replace(/^ssl_dh = .*$/m, "") })],
  ["MAIL-TLS-3", "2048-bit DH parameters", (r) => ({ ...r, dhParamBits: 2048 })],
  ["MAIL-TLS-3", "Dovecot with OpenSSL's default TLS 1.3 groups (ffdhe2048)", (r) => ({ ...r, dovecotConf: setDovecot(r.dovecotConf!, "ssl_curve_list", "") })],
  ["MAIL-TLS-3", "Dovecot accepting TLS 1.1", (r) => ({ ...r, dovecotConf: setDovecot(r.dovecotConf!, "ssl_min_protocol", "TLSv1.1") })],
  ["MAIL-NET-1", "mynetworks replaced by a LAN", (r) => ({ ...r, mainCf: setMain(r.mainCf, "mynetworks", "192.168.50.0/24") })],
  ["MAIL-NET-2", "mynetworks trusting a provider /16", (r) => ({ ...r, mainCf: setMain(r.mainCf, "mynetworks", "127.0.0.0/8 [::1]/128 10.20.0.0/16") })],
  ["MAIL-NET-2", "mynetworks trusting a shared IPv6 /48", (r) => ({ ...r, mainCf: setMain(r.mainCf, "mynetworks", "127.0.0.0/8 [::1]/128 [2001:db8::]/48") })],
  ["MAIL-PRIVACY-1", "the seed's global header_checks", (r) => ({ ...r, mainCf: setMain(r.mainCf, "header_checks", "regexp:/etc/postfix/submission_header_checks") })],
];

describe("security checks", () => {
  it("pass on the rendered configuration, with and without postscreen", () => {
    assert.deepEqual(failing(rendered), []);
    assert.deepEqual(failing(plain), []);
    // ECDHE only: no DH parameters at all, and none needed.
    const none = { ...postfixSettings, tlsProfile: { ...postfixSettings.tlsProfile, dhParams: "none" as const } };
    assert.deepEqual(failing({ mainCf: mainCf(none), masterCf: masterCf(none), dovecotConf: dovecotConf({ ...dovecotSettings, tlsProfile: none.tlsProfile }).content }), []);
    assert.doesNotThrow(() => assertSecure(rendered));
  });

  it("have unique IDs, each with a summary and an explanation", () => {
    const ids = SECURITY_CHECKS.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const c of SECURITY_CHECKS) assert.ok(c.summary.length > 10 && c.explanation.length > 20, c.id);
  });

  for (const [id, what, mutate] of violations) {
    it(`${id} fails on ${what}`, () => {
      for (const base of [rendered, plain]) assert.deepEqual(failing(mutate(base)), [id]);
    });
  }

  it("covers every check with at least one failing case", () => {
    assert.deepEqual([...new Set(violations.map(([id]) => id))].sort(), SECURITY_CHECKS.map((c) => c.id).sort());
  });

  it("reports every failed check by ID in one error", () => {
    const r = { ...rendered, mainCf: setMain(setMain(rendered.mainCf, "mynetworks", "0.0.0.0/0"), "smtpd_relay_restrictions", "permit") };
    assert.throws(() => assertSecure(r), (err: Error) => {
      assert.ok(err instanceof SecurityCheckError);
      assert.deepEqual(err.failures.map((f) => f.id), ["MAIL-RELAY-1", "MAIL-NET-1", "MAIL-NET-2"]);
      assert.match(err.message, /^security checks failed, nothing was sent to the host:\n - MAIL-RELAY-1 /);
      return true;
    });
  });
});
