// The BIND fixture itself (test/tools/bind.ts): named serves the records it is given, applies an
// update signed with the zone's key, refuses one signed with a wrong secret, and leaves nothing
// behind after stop(). Does not prove: IPv6 listening, several zones, or an AppArmor-enforcing
// kernel (this one has no AppArmor).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { Bind, newTsigKey, startBind, tsigKeyClause, TsigKey } from "../tools/bind";

const why = process.getuid?.() !== 0 ? "needs root (an address on lo, named)" : undefined;
if (why && process.env.MAILFLEET_E2E === "require") throw new Error(`bind fixture tests cannot run: ${why}`);

// Not 127.0.0.53, which systemd-resolved may hold.
const IP = "127.0.0.153";
const PORT = 10053;
const ZONE = "mailfleet.test";

describe("bind fixture", { skip: why }, () => {
  let bind: Bind;
  let dir = "";
  let addedIp = false;
  let startMs = 0;
  const key = newTsigKey();

  /** nsupdate with the key in a 0600 file, so the secret never appears on a command line. */
  const nsupdate = (k: TsigKey, commands: string[]) => {
    const file = path.join(dir, `${k.secret.slice(0, 8).replace(/\//g, "_")}.key`);
    fs.writeFileSync(file, tsigKeyClause(k), { mode: 0o600 });
    // No blank line before EOF: nsupdate treats a blank line as another "send".
    const input = [`server ${IP} ${PORT}`, `zone ${ZONE}`, ...commands, "send"].join("\n") + "\n";
    return spawnSync("nsupdate", ["-k", file], { input, encoding: "utf8", timeout: 10000 });
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bind-fixture-test-"));
    // named listens only on addresses assigned to an interface; 127.0.0.0/8 routes to lo but
    // only 127.0.0.1 is assigned.
    if (!/inet 127\.0\.0\.153\//.test(spawnSync("ip", ["-4", "addr", "show", "dev", "lo"], { encoding: "utf8" }).stdout)) {
      const r = spawnSync("ip", ["addr", "add", `${IP}/32`, "dev", "lo"], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      addedIp = true;
    }
    const t0 = Date.now();
    bind = await startBind({
      listen: IP,
      port: PORT,
      zones: [{ name: ZONE, records: [`mx.${ZONE}. 300 IN A 10.1.2.3`] }],
      key,
    });
    startMs = Date.now() - t0;
  });

  after(() => {
    bind?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (addedIp) spawnSync("ip", ["addr", "del", `${IP}/32`, "dev", "lo"]);
  });

  it("serves a record given in the zone's records", (t) => {
    t.diagnostic(`named answered ${startMs} ms after startBind was called`);
    assert.deepEqual(bind.query(`mx.${ZONE}`, "A"), ["10.1.2.3"]);
    assert.deepEqual(bind.query(`ns.${ZONE}`, "A"), [IP]);
    assert.equal(bind.serial(ZONE), 1);
    assert.equal(bind.address, `${IP}:${PORT}`);
  });

  it("applies an update signed with the zone's key and bumps the serial", () => {
    const r = nsupdate(key, [`update add probe.${ZONE}. 60 IN TXT "signed-ok"`]);
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}\n${bind.log()}`);
    assert.deepEqual(bind.query(`probe.${ZONE}`, "TXT"), ['"signed-ok"']);
    assert.equal(bind.serial(ZONE), 2);
  });

  it("fails an update signed with a wrong secret and changes nothing", async (t) => {
    const serial = bind.serial(ZONE);
    const r = nsupdate({ ...key, secret: newTsigKey().secret }, [`update add forged.${ZONE}. 60 IN TXT "forged"`]);
    t.diagnostic(`nsupdate with a wrong secret: exit ${r.status}, stdout ${JSON.stringify(r.stdout)}, stderr ${JSON.stringify(r.stderr)}`);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /^; TSIG error with server: tsig indicates error\nupdate failed: NOTAUTH\(BADSIG\)\n$/);
    await bind.waitForLog(/request has invalid signature: TSIG mailfleet-test-key: tsig verify failure \(BADSIG\)/);
    assert.deepEqual(bind.query(`forged.${ZONE}`, "TXT"), []);
    assert.equal(bind.serial(ZONE), serial);
  });

  it("frees the port and removes its directory on stop", () => {
    const confDir = /loading configuration from '([^']+)\/named\.conf'/.exec(bind.log())?.[1];
    assert.ok(confDir && confDir.includes("mailfleet-bind-"), bind.log());
    assert.ok(fs.existsSync(confDir));
    bind.stop();
    assert.equal(spawnSync("ss", ["-Hlntu", `sport = :${PORT}`], { encoding: "utf8" }).stdout, "");
    assert.equal(fs.existsSync(confDir), false);
    assert.throws(() => bind.query(ZONE, "SOA"), /connection refused|no servers could be reached/);
    bind.stop(); // idempotent
  });
});
