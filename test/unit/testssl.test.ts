// The testssl.sh harness: summarize() over real testssl 3.0.8 JSON (test/fixtures/testssl/README.md
// says how each file was made) and profileViolations() under the password-port and port-25 rules.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { dhGroupBits, Finding, profileViolations, PROTOCOLS, readFindings, runTestssl, summarize, Weakness } from "../tools/testssl";

const FIXTURES = path.join(__dirname, "..", "fixtures", "testssl");
const fixture = (name: string) => summarize(readFindings(path.join(FIXTURES, name)));

const PASSWORDS = { passwords: true, allowTls10: false };
const PORT_25 = { passwords: false, allowTls10: true };
const TLS12_ONLY = { passwords: false, allowTls10: false };

function finding(id: string, text: string, severity = "INFO"): Finding {
  return { id, ip: "127.0.0.1/127.0.0.1", port: "25", severity, finding: text };
}

/** Protocol results as testssl words them; `offered` lists the ids reported as offered. */
function protocolFindings(offered: string[], overrides: Record<string, Finding> = {}): Finding[] {
  return PROTOCOLS.map((p) => overrides[p] ?? finding(p, offered.includes(p) ? "offered" : "not offered"));
}

// Suites Debian 12's OpenSSL 3.0 cannot offer, so no local server produced them: lines in the
// layout of testssl's neat_list (hexcode, OpenSSL name, kx, enc, bits, IANA name) with the names
// and encodings from its /etc/testssl/cipher-mapping.txt.
const LEGACY_SUITES: Finding[] = [
  finding("cipher-ssl3_x0a", "SSLv3  x0a     DES-CBC3-SHA                      RSA        3DES        168      TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
  finding("cipher-tls1_x05", "TLS 1  x05     RC4-SHA                           RSA        RC4         128      TLS_RSA_WITH_RC4_128_SHA"),
  finding("cipher-tls1_x09", "TLS 1  x09     DES-CBC-SHA                       RSA        DES         56       TLS_RSA_WITH_DES_CBC_SHA"),
  finding("cipher-tls1_x14", "TLS 1  x14     EXP-EDH-RSA-DES-CBC-SHA           DH 512     DES         40       TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA"),
  finding("cipher-tls1_2_xc012", "TLS 1.2  xc012   ECDHE-RSA-DES-CBC3-SHA            ECDH 253   3DES        168      TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"),
];
const legacy = () =>
  summarize([
    ...protocolFindings(["SSLv3", "TLS1", "TLS1_2"], { SSLv3: finding("SSLv3", "offered", "HIGH") }),
    ...LEGACY_SUITES,
    finding("DH_groups", "RFC3526/Oakley Group 14"),
  ]);

const flagsOf = (p: ReturnType<typeof summarize>): Record<Weakness, boolean> => ({
  anonymous: p.anonymous, null: p.null, export: p.export, rc4: p.rc4, des: p.des,
  tripleDes: p.tripleDes, md5: p.md5, rsaKeyExchange: p.rsaKeyExchange, sha1Cbc: p.sha1Cbc,
});

describe("summarize testssl findings", () => {
  it("reads protocols, every offered suite and the DH sizes of a weak server", () => {
    const p = fixture("weak-https.json");
    assert.deepEqual(p.protocols, { SSLv2: false, SSLv3: false, TLS1: true, TLS1_1: true, TLS1_2: true, TLS1_3: true });
    assert.deepEqual(
      p.ciphers.map((c) => `${c.protocol} ${c.name} ${c.kx}`),
      [
        "TLS1 ECDHE-RSA-AES256-SHA ECDH 521", "TLS1 DHE-RSA-AES256-SHA DH 1024", "TLS1_1 AES128-SHA RSA",
        "TLS1_2 ECDHE-RSA-AES256-GCM-SHA384 ECDH 253", "TLS1_2 DHE-RSA-AES256-GCM-SHA384 DH 1024",
        "TLS1_2 ADH-AES256-GCM-SHA384 DH 1024", "TLS1_2 AES256-GCM-SHA384 RSA", "TLS1_2 DHE-RSA-AES128-SHA DH 1024",
        "TLS1_2 AECDH-NULL-SHA ECDH 521", "TLS1_2 NULL-SHA256 RSA", "TLS1_2 NULL-MD5 RSA", "TLS1_3 TLS_AES_256_GCM_SHA384 ECDH 253",
      ],
    );
    assert.deepEqual(p.ciphers[1], {
      protocol: "TLS1", hexcode: "x39", name: "DHE-RSA-AES256-SHA", iana: "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
      kx: "DH 1024", enc: "AES", bits: "256", weaknesses: ["sha1Cbc"],
    });
    assert.deepEqual(flagsOf(p), {
      anonymous: true, null: true, export: false, rc4: false, des: false, tripleDes: false, md5: true, rsaKeyExchange: true, sha1Cbc: true,
    });
    // 1024 from the TLS 1.2 DHE suites; the ffdhe sizes from DH_groups, which testssl fills from TLS 1.3.
    assert.deepEqual(p.dhGroups, [1024, 2048, 3072, 4096, 6144, 8192]);
    assert.deepEqual(p.dhGroupNames, ["ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"]);
    assert.deepEqual(p.warnings, []);
  });

  it("reads a strict server as TLS 1.2+ with ECDHE and ffdhe3072 only", () => {
    const p = fixture("strict-https.json");
    assert.deepEqual(p.protocols, { SSLv2: false, SSLv3: false, TLS1: false, TLS1_1: false, TLS1_2: true, TLS1_3: true });
    assert.equal(p.ciphers.length, 9);
    assert.deepEqual([...new Set(p.ciphers.map((c) => c.kx))], ["ECDH 253", "DH 3072"]);
    assert.deepEqual(Object.values(flagsOf(p)), Array(9).fill(false));
    assert.deepEqual(p.dhGroups, [3072]);
    assert.deepEqual(p.dhGroupNames, ["ffdhe3072"]);
    assert.deepEqual(p.curves, ["prime256v1", "X25519"]);
  });

  it("sets each legacy category from suites OpenSSL 3 no longer offers", () => {
    const p = legacy();
    assert.deepEqual(flagsOf(p), {
      anonymous: false, null: false, export: true, rc4: true, des: true, tripleDes: true, md5: false, rsaKeyExchange: true, sha1Cbc: true,
    });
    assert.deepEqual(p.ciphers.map((c) => c.protocol), ["SSLv3", "TLS1", "TLS1", "TLS1", "TLS1_2"]);
    assert.deepEqual(p.dhGroups, [512, 2048]);
  });

  it("sizes the DH groups testssl names", () => {
    const cases: Array<[string, number | undefined]> = [
      ["ffdhe3072", 3072], ["RFC7919/ffdhe2048", 2048], ["RFC3526/Oakley Group 14", 2048], ["RFC2409/Oakley Group 2", 1024],
      ["Unknown DH group (1024 bits)", 1024], ["RFC5114/2048-bit DSA group with 224-bit prime order subgroup", 2048],
      ["openssl/1024-bit MODP group with safe prime modulus", 1024], ["IronPort SMTPD builtin", undefined],
    ];
    for (const [name, bits] of cases) assert.equal(dhGroupBits(name), bits, name);
  });

  it("fails when a protocol result is missing", () => {
    assert.throws(() => summarize(protocolFindings([]).filter((f) => f.id !== "TLS1_3")), /no "TLS1_3" protocol result \(was -p given\?\)/);
  });

  it("fails on a cipher finding in a layout it does not know", () => {
    assert.throws(() => summarize([...protocolFindings([]), finding("cipher-tls1_2_xc030", "TLS 1.2  xc030 ECDHE-RSA-AES256-GCM-SHA384")]), /unexpected testssl cipher finding cipher-tls1_2_xc030/);
  });
});

describe("profile violations", () => {
  const cases: Array<{ name: string; profile: () => ReturnType<typeof summarize>; rules: typeof PASSWORDS; expected: string[] }> = [
    {
      name: "a weak server on a password port",
      profile: () => fixture("weak-https.json"),
      rules: PASSWORDS,
      expected: [
        "offers TLS1", "offers TLS1_1",
        "offers ECDHE-RSA-AES256-SHA (SHA-1 CBC)", "offers DHE-RSA-AES256-SHA (SHA-1 CBC)",
        "offers AES128-SHA (RSA key exchange, SHA-1 CBC)", "offers ADH-AES256-GCM-SHA384 (anonymous)",
        "offers AES256-GCM-SHA384 (RSA key exchange)", "offers DHE-RSA-AES128-SHA (SHA-1 CBC)",
        "offers AECDH-NULL-SHA (anonymous, NULL)", "offers NULL-SHA256 (NULL, RSA key exchange)",
        "offers NULL-MD5 (NULL, MD5, RSA key exchange)",
        "DH group 1024 bits < 3072", "DH group 2048 bits < 3072",
      ],
    },
    {
      name: "a weak server on port 25",
      profile: () => fixture("weak-https.json"),
      rules: PORT_25,
      expected: [
        "offers ADH-AES256-GCM-SHA384 (anonymous)", "offers AECDH-NULL-SHA (anonymous, NULL)",
        "offers NULL-SHA256 (NULL)", "offers NULL-MD5 (NULL, MD5)", "DH group 1024 bits < 2048",
      ],
    },
    {
      name: "a weak server where TLS 1.0 is not allowed",
      profile: () => fixture("weak-https.json"),
      rules: TLS12_ONLY,
      expected: [
        "offers TLS1", "offers TLS1_1",
        "offers ADH-AES256-GCM-SHA384 (anonymous)", "offers AECDH-NULL-SHA (anonymous, NULL)",
        "offers NULL-SHA256 (NULL)", "offers NULL-MD5 (NULL, MD5)", "DH group 1024 bits < 2048",
      ],
    },
    { name: "a strict server on a password port", profile: () => fixture("strict-https.json"), rules: PASSWORDS, expected: [] },
    { name: "a strict server on port 25", profile: () => fixture("strict-https.json"), rules: PORT_25, expected: [] },
    {
      name: "SMTP STARTTLS with kRSA, SHA-1 CBC and ffdhe2048 on a password port",
      profile: () => fixture("mixed-smtp-starttls.json"),
      rules: PASSWORDS,
      expected: ["offers DHE-RSA-AES128-SHA (SHA-1 CBC)", "offers AES128-SHA (RSA key exchange, SHA-1 CBC)", "DH group 2048 bits < 3072"],
    },
    { name: "SMTP STARTTLS with kRSA, SHA-1 CBC and ffdhe2048 on port 25", profile: () => fixture("mixed-smtp-starttls.json"), rules: PORT_25, expected: [] },
    {
      name: "legacy suites on a password port",
      profile: legacy,
      rules: PASSWORDS,
      expected: [
        "offers SSLv3", "offers TLS1",
        "offers DES-CBC3-SHA (3DES, RSA key exchange, SHA-1 CBC)", "offers RC4-SHA (RC4, RSA key exchange)",
        "offers DES-CBC-SHA (DES, RSA key exchange, SHA-1 CBC)", "offers EXP-EDH-RSA-DES-CBC-SHA (EXPORT, DES, SHA-1 CBC)",
        "offers ECDHE-RSA-DES-CBC3-SHA (3DES, SHA-1 CBC)", "DH group 512 bits < 3072", "DH group 2048 bits < 3072",
      ],
    },
    {
      name: "legacy suites on port 25, where 3DES, kRSA and SHA-1 CBC stay allowed",
      profile: legacy,
      rules: PORT_25,
      expected: [
        "offers SSLv3", "offers RC4-SHA (RC4)", "offers DES-CBC-SHA (DES)",
        "offers EXP-EDH-RSA-DES-CBC-SHA (EXPORT, DES)", "DH group 512 bits < 2048",
      ],
    },
  ];
  for (const c of cases) {
    it(`lists exactly what ${c.name} breaks`, () => assert.deepEqual(profileViolations(c.profile(), c.rules), c.expected));
  }

  it("judges each category on its own suite", () => {
    const alone: Array<[string, string]> = [
      ["TLS 1.2  xa7     ADH-AES256-GCM-SHA384             DH 3072    AESGCM      256      TLS_DH_anon_WITH_AES_256_GCM_SHA384", "offers ADH-AES256-GCM-SHA384 (anonymous)"],
      ["TLS 1.2  xc010   ECDHE-RSA-NULL-SHA                ECDH 521   None        None     TLS_ECDHE_RSA_WITH_NULL_SHA", "offers ECDHE-RSA-NULL-SHA (NULL)"],
      ["TLS 1.2  xc011   ECDHE-RSA-RC4-SHA                 ECDH 253   RC4         128      TLS_ECDHE_RSA_WITH_RC4_128_SHA", "offers ECDHE-RSA-RC4-SHA (RC4)"],
      ["TLS 1.2  xc012   ECDHE-RSA-DES-CBC3-SHA            ECDH 253   3DES        168      TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "offers ECDHE-RSA-DES-CBC3-SHA (3DES, SHA-1 CBC)"],
      ["TLS 1.2  x9c     AES128-GCM-SHA256                 RSA        AESGCM      128      TLS_RSA_WITH_AES_128_GCM_SHA256", "offers AES128-GCM-SHA256 (RSA key exchange)"],
      ["TLS 1.2  xc013   ECDHE-RSA-AES128-SHA              ECDH 253   AES         128      TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "offers ECDHE-RSA-AES128-SHA (SHA-1 CBC)"],
      ["TLS 1.2  xc027   ECDHE-RSA-AES128-SHA256           ECDH 253   AES         128      TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", ""],
    ];
    for (const [line, expected] of alone) {
      const p = summarize([...protocolFindings(["TLS1_2"]), finding(`cipher-tls1_2_${line.split(/\s+/)[2]}`, line)]);
      assert.deepEqual(profileViolations(p, PASSWORDS), expected ? [expected] : [], line);
    }
  });

  it("reports a protocol testssl could not test", () => {
    const warned = { TLS1_3: finding("TLS1_3", "not tested due to lack of local support", "WARN") };
    const p = summarize(protocolFindings(["TLS1_2"], warned));
    assert.deepEqual(profileViolations(p, PASSWORDS), ["testssl could not decide TLS1_3: not tested due to lack of local support"]);
  });
});

describe("runTestssl", () => {
  const dir = () => mkdtempSync(path.join(tmpdir(), "mailfleet-testssl-"));

  it("fails with the tail of what it printed when testssl cannot be started", () => {
    const d = dir();
    try {
      assert.throws(
        () => runTestssl({ host: "127.0.0.1", port: 1, outFile: path.join(d, "out.json"), binary: path.join(d, "no-testssl") }),
        /testssl 127\.0\.0\.1:1 exited with 127[\s\S]*no-testssl/,
      );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it("fails naming testssl's own finding when nothing listens", { skip: !existsSync("/usr/bin/testssl") && "testssl.sh not installed" }, () => {
    const d = dir();
    try {
      assert.throws(
        () => runTestssl({ host: "127.0.0.1", port: 1, outFile: path.join(d, "out.json"), timeoutSeconds: 60 }),
        /exited with \d+; scanProblem: Can't connect to '127\.0\.0\.1:1'/,
      );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
});
