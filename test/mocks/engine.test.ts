// The engine double itself, secrets: command:local:Command resources run for real, secrets are
// masked in everything the engine reports, the state holds plain text where Pulumi's checkpoint
// would and encrypted, marked values for secrets, and every step that exposes a secret, or one
// component of one (a line of a PEM key, one password of a bundle), is flagged.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { after, describe, it } from "node:test";
import { removeStaleKeyDirs } from "../tools/engine-exec";
import { runInChild, runInProcess } from "../tools/engine-harness";
import { SIG_KEY, SECRET_SIG } from "../tools/engine-state";
import { secretComponents } from "../tools/engine-secrets";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailfleet-engine-"));
let n = 0;
const freshState = () => path.join(dir, `state-${++n}.json`);
const stateOf = (file: string) => JSON.parse(fs.readFileSync(file, "utf8")) as { version: number; resources: Array<{ urn: string; outputs: Record<string, unknown>; inputs: Record<string, unknown> }> };
const resource = (file: string, name: string) => stateOf(file).resources.find((r) => r.urn.endsWith(`::${name}`))!;
const isMarkedSecret = (v: unknown) => !!v && typeof v === "object" && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG && typeof (v as Record<string, unknown>).ciphertext === "string";

const BUNDLE = "alice@example.test\tpw-alpha-0001\nbob@example.test\tpw-bravo-0002\n";
const PEM = [
  "-----BEGIN PRIVATE KEY-----",
  "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
  "MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu",
  "-----END PRIVATE KEY-----",
  "",
].join("\n");

describe("the engine double, secrets", () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("runs a local command, masks its secret in what it reports, and flags the step that printed it", async () => {
    const state = freshState();
    const r = await runInProcess([
      { kind: "local", name: "quiet", args: { create: "wc -c", stdin: { $secret: "s3cr3t-value-1" } } },
      { kind: "local", name: "leaky", args: { create: "cat", stdin: { $secret: "s3cr3t-value-2" } } },
    ], state);
    assert.deepEqual(r.errors, []);
    const ops = Object.fromEntries(r.operations.map((o) => [o.name, o]));
    assert.equal(ops.quiet.stdout?.trim(), "14");
    assert.equal(ops.leaky.stdout, "[secret]");
    assert.deepEqual(r.secretLeaks, ["leaky"]);
    const text = fs.readFileSync(state, "utf8");
    assert.ok(!text.includes("s3cr3t-value-1"), "a secret nobody printed is in the state in plain text");
    // The leaked secret sits in plain text exactly where Pulumi would store it: the step's stdout.
    assert.equal(resource(state, "leaky").outputs.stdout, "s3cr3t-value-2");
    assert.ok(isMarkedSecret(resource(state, "leaky").inputs.stdin) && isMarkedSecret(resource(state, "leaky").outputs.stdin));
  });

  it("stores outputs in plain text and only secret values encrypted, with Pulumi's secret signature", async () => {
    const state = freshState();
    await runInProcess([
      { kind: "local", name: "c", args: { create: "echo hello", environment: { MODE: { $secret: "env-secret-value" } } } },
      { kind: "marker", name: "m", args: { path: path.join(dir, "m.txt"), content: { $secret: "marker-secret-1" } } },
    ], state);
    const c = resource(state, "c");
    assert.equal(stateOf(state).version, 2);
    assert.equal(c.outputs.stdout, "hello", "stdout is stored as the provider returns it: plain, one trailing newline trimmed");
    assert.equal(c.outputs.create, "echo hello");
    assert.ok(isMarkedSecret(c.outputs.environment), "an output whose input held a secret is secret");
    const m = resource(state, "m");
    assert.equal(m.outputs.path, path.join(dir, "m.txt"));
    assert.ok(isMarkedSecret(m.outputs.content), "a dynamic output whose input was secret is secret (annotateSecrets)");
    const text = fs.readFileSync(state, "utf8");
    for (const s of ["env-secret-value", "marker-secret-1"]) assert.ok(!text.includes(s), s);
  });

  it("flags a step that prints one password of a two-password stdin bundle", async () => {
    const r = await runInProcess([
      { kind: "local", name: "one-password", args: { create: "sed -n 2p | cut -f2", stdin: { $secret: BUNDLE } } },
      { kind: "local", name: "addresses-only", args: { create: "cut -f1", stdin: { $secret: BUNDLE } } },
    ], freshState());
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.secretLeaks, ["one-password"]);
    assert.equal(r.operations.find((o) => o.name === "one-password")?.stdout, "[secret]\n");
  });

  it("does not flag that step with additionalSecretOutputs stdout and stderr, and stores its stdout encrypted", async () => {
    const state = freshState();
    const r = await runInProcess([
      { kind: "local", name: "logged", args: { create: "sed -n 2p | cut -f2", stdin: { $secret: BUNDLE } }, opts: { additionalSecretOutputs: ["stdout", "stderr"] } },
      { kind: "local", name: "silent", args: { create: "sed -n 2p | cut -f2", stdin: { $secret: BUNDLE }, logging: "none" }, opts: { additionalSecretOutputs: ["stdout", "stderr"] } },
    ], state);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.secretLeaks, []);
    for (const name of ["logged", "silent"]) {
      assert.ok(isMarkedSecret(resource(state, name).outputs.stdout), `${name}: stdout stored as a secret`);
      assert.ok(isMarkedSecret(resource(state, name).outputs.stderr), `${name}: stderr stored as a secret`);
    }
    assert.ok(!fs.readFileSync(state, "utf8").includes("pw-bravo-0002"));
    // @pulumi/command still writes the output to the log unless `logging` says otherwise.
    assert.deepEqual(r.loggedSecrets, ["logged"]);
  });

  it("does not take what a secret step printed for a secret: another step printing the same status line is not flagged", async () => {
    const state = freshState();
    const status = "printf 'changed /etc/thing\\nreloaded dovecot\\n'";
    const r = await runInProcess([
      { kind: "local", name: "secret-step", args: { create: `cat >/dev/null; ${status}`, stdin: { $secret: BUNDLE } }, opts: { additionalSecretOutputs: ["stdout", "stderr"] } },
      { kind: "local", name: "plain-step", args: { create: status } },
    ], state);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.secretLeaks, []);
    // Also on the next run, when the secret step's stored outputs are read back from state.
    const again = await runInProcess([
      { kind: "local", name: "secret-step", args: { create: `cat >/dev/null; ${status}`, stdin: { $secret: BUNDLE } }, opts: { additionalSecretOutputs: ["stdout", "stderr"] } },
      { kind: "local", name: "plain-step", args: { create: `${status}; true` } },
    ], state);
    assert.deepEqual(again.secretLeaks, []);
  });

  it("flags a resource whose plain-text state holds a secret (an output or input that should have been marked)", async () => {
    const r = await runInProcess([
      { kind: "local", name: "uses-secret", args: { create: "wc -c", stdin: { $secret: BUNDLE } } },
      { kind: "marker", name: "unmarked", args: { path: path.join(dir, "unmarked.txt"), content: "pw-bravo-0002", log: path.join(dir, "unmarked.log") } },
    ], freshState());
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.secretLeaks, ["unmarked"]);
  });

  it("does not take a line a secret bundle shares with plain inputs (a managed-file header) for a secret", async () => {
    const header = "# managed by mailfleet (stack s); local edits are overwritten";
    const r = await runInProcess([
      { kind: "local", name: "secret-bundle", args: { create: "wc -l", stdin: { $secret: `${header}\nuser: pw-secret-4711\n` } } },
      { kind: "local", name: "plain-bundle", args: { create: "wc -l", stdin: `${header}\nsetting = on\n` } },
      { kind: "local", name: "prints-header", args: { create: `echo '${header}'` } },
      { kind: "local", name: "prints-password", args: { create: "echo pw-secret-4711" } },
    ], freshState());
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.secretLeaks, ["prints-password"]);
  });

  it("flags a step that prints one line of a PEM key body, but not the PEM armor alone", async () => {
    const r = await runInProcess([
      { kind: "local", name: "key-line", args: { create: "sed -n 3p", stdin: { $secret: PEM } } },
      { kind: "local", name: "armor", args: { create: "head -n1", stdin: { $secret: PEM } } },
    ], freshState());
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.secretLeaks, ["key-line"]);
  });

  it("flags a config secret's single password when a step prints it (a secret's components, not only the whole)", async () => {
    const r = await runInProcess([
      { kind: "local", name: "echoes", args: { create: "echo configured pw-charlie-003" } },
    ], freshState(), { secrets: ["alice@example.test: pw-alpha-0001\ncarol@example.org: 'pw-charlie-003'\n"] });
    assert.deepEqual(r.secretLeaks, ["echoes"]);
    assert.equal(r.operations[0].stdout, "configured [secret]\n");
  });

  it("fails a step that prints a secret on its way out with the secret masked, and flags it (the error quotes the output)", () => {
    const r = runInChild("up", [
      { kind: "local", name: "fails-loudly", args: { create: "cat; exit 3", stdin: { $secret: "pw-delta-00004" }, logging: "none" }, opts: { additionalSecretOutputs: ["stdout", "stderr"] } },
    ], freshState());
    assert.equal(r.code, 1);
    assert.match(r.summary.errors.join("\n"), /fails-loudly: command exited 3: running "cat; exit 3":\n\[secret\]/);
    assert.ok(!r.log.includes("pw-delta-00004") && !JSON.stringify(r.summary).includes("pw-delta-00004"));
    assert.deepEqual(r.summary.secretLeaks, ["fails-loudly"]);
  });

  it("splits a secret into the components a step could print alone", () => {
    assert.deepEqual(secretComponents(BUNDLE).sort(), [BUNDLE, "alice@example.test\tpw-alpha-0001", "bob@example.test\tpw-bravo-0002", "pw-alpha-0001", "pw-bravo-0002"].sort());
    assert.ok(!secretComponents(PEM).some((c) => /^-----[A-Z ]+-----$/.test(c)), "PEM armor lines are public");
    assert.ok(secretComponents(PEM).includes("MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu"));
    assert.deepEqual(secretComponents("ab"), []);
    // A certificate travelling in a secret bundle next to its key stays public; the key's lines do not.
    const cert = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUEXAMPLEcertificateBodyLine0001\n-----END CERTIFICATE-----";
    const pieces = secretComponents(`${PEM}\n${cert}\n`);
    assert.ok(!pieces.includes("MIIBszCCAVmgAwIBAgIUEXAMPLEcertificateBodyLine0001"));
    assert.ok(pieces.includes("MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu"));
  });
});

describe("the engine double, leftovers", () => {
  it("removes the key folder of a double that was killed before it could clean up", () => {
    const dead = spawnSync(process.execPath, ["-e", "process.exit(0)"]).pid!;
    const stale = fs.mkdtempSync(path.join(os.tmpdir(), `mailfleet-ssh-${dead}-`));
    fs.writeFileSync(path.join(stale, "key"), "-----BEGIN OPENSSH PRIVATE KEY-----\nstale\n", { mode: 0o600 });
    const mine = fs.mkdtempSync(path.join(os.tmpdir(), `mailfleet-ssh-${process.pid}-`));
    removeStaleKeyDirs();
    assert.equal(fs.existsSync(stale), false, "a dead run's private key is still on disk");
    assert.equal(fs.existsSync(mine), true, "a live run's key folder was removed");
    fs.rmSync(mine, { recursive: true, force: true });
  });
});
