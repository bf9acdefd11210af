// Resource options the engine double applies as `pulumi up` does (replaceOnChanges, ignoreChanges,
// deleteBeforeReplace, customTimeouts; additionalSecretOutputs and aliases have their own
// suites), and the options it does not model, which fail the run naming the option.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { parseDuration } from "../tools/engine-goal";
import { changes, runInChild, runInProcess, scratch } from "../tools/engine-harness";

const { dir, fresh, lines } = scratch("engine-opts");
const stored = (state: string, name: string) =>
  (JSON.parse(fs.readFileSync(state, "utf8")).resources as Array<{ urn: string; inputs: Record<string, unknown> }>).find((r) => r.urn.endsWith(`::${name}`));

describe("the engine double, resource options", () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("replaces instead of updating when a replaceOnChanges input changes, deleting the old copy with its own inputs", async () => {
    const { state, log } = fresh();
    const spec = (x: string, opts: Record<string, unknown> = {}) => [
      { kind: "local" as const, name: "svc", args: { create: `echo create $X >> ${log}`, delete: `echo delete $X >> ${log}`, environment: { X: x } }, opts },
    ];
    await runInProcess(spec("1"), state);
    const updated = await runInProcess(spec("2"), state);
    assert.deepEqual(changes(updated.operations), ["update svc"]);
    const replaced = await runInProcess(spec("3", { replaceOnChanges: ["environment"] }), state);
    assert.deepEqual(changes(replaced.operations), ["replace svc"]);
    assert.deepEqual(lines(log), ["create 1", "create 2", "create 3", "delete 2"]);
  });

  it("takes ignoreChanges inputs from the old state, for the diff and for what runs", async () => {
    const { state, log } = fresh();
    const spec = (v: string, x: string) => [
      { kind: "local" as const, name: "svc", args: { create: `echo run ${v} $X >> ${log}`, environment: { X: x } }, opts: { ignoreChanges: ["create"] } },
    ];
    await runInProcess(spec("v1", "a"), state);
    const same = await runInProcess(spec("v2", "a"), state);
    assert.deepEqual(changes(same.operations), [], "a change of an ignored input alone is no change");
    const updated = await runInProcess(spec("v3", "b"), state);
    assert.deepEqual(changes(updated.operations), ["update svc"]);
    assert.deepEqual(lines(log), ["run v1 a", "run v1 b"], "the update runs the old create text");
    assert.equal(stored(state, "svc")?.inputs.create, `echo run v1 $X >> ${log}`);
  });

  it("deletes the old resource before creating its replacement with deleteBeforeReplace", async () => {
    const { state, log } = fresh();
    const spec = (v: string, dbr: boolean) => [
      { kind: "local" as const, name: "svc", args: { create: `echo create ${v} >> ${log}`, delete: `echo delete ${v} >> ${log}`, triggers: [v] }, opts: { deleteBeforeReplace: dbr } },
    ];
    await runInProcess(spec("v1", false), state);
    await runInProcess(spec("v2", false), state);
    await runInProcess(spec("v3", true), state);
    assert.deepEqual(lines(log), ["create v1", "create v2", "delete v1", "delete v2", "create v3"]);
  });

  it("deletes first the dependents a deleteBeforeReplace replacement would replace, and recreates them", async () => {
    const { state, log } = fresh();
    const spec = (v: string) => [
      { kind: "local" as const, name: "base", args: { create: `echo create base ${v} >> ${log}; echo ${v}`, delete: `echo delete base ${v} >> ${log}`, triggers: [v] }, opts: { deleteBeforeReplace: true } },
      // Replaced when base is: its triggers come from base.
      { kind: "local" as const, name: "keyed", args: { create: `echo create keyed >> ${log}`, delete: `echo delete keyed >> ${log}`, triggers: [{ $ref: "base.stdout" }] } },
      // Only updated: base's output reaches its stdin, which does not replace.
      { kind: "local" as const, name: "reader", args: { create: `cat >/dev/null; echo run reader >> ${log}`, delete: `echo delete reader >> ${log}`, stdin: { $ref: "base.stdout" } } },
    ];
    await runInProcess(spec("v1"), state);
    fs.rmSync(log);
    const r = await runInProcess(spec("v2"), state);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(changes(r.operations).sort(), ["replace base", "replace keyed", "update reader"]);
    assert.deepEqual(lines(log).slice(0, 3), ["delete keyed", "delete base v1", "create base v2"]);
    assert.deepEqual(lines(log).slice(3).sort(), ["create keyed", "run reader"]);
  });

  it("follows a dynamic provider's deleteBeforeReplace", async () => {
    const { state, log } = fresh();
    const marker = (file: string, dbr: boolean) => [{ kind: "marker" as const, name: "m", args: { path: path.join(dir, file), content: "x", log, dbr } }];
    await runInProcess(marker("a", false), state);
    await runInProcess(marker("b", false), state);
    await runInProcess(marker("c", true), state);
    assert.deepEqual(lines(log).map((l) => l.replace(`${dir}/`, "")), ["create a", "create b", "delete a", "delete b", "create c"]);
  });

  it("fails a create that runs over its customTimeouts.create, naming the timeout", () => {
    const t0 = Date.now();
    const r = runInChild("up", [{ kind: "local", name: "slow", args: { create: "sleep 20" }, opts: { customTimeouts: { create: "1s" } } }], fresh().state);
    assert.equal(r.code, 1);
    assert.match(r.summary.errors.join("\n"), /slow: create timed out after 1s \(customTimeouts\.create\)/);
    assert.ok(Date.now() - t0 < 15_000, "the command was not stopped at its timeout");
  });

  it("fails an update that runs over its customTimeouts.update", async () => {
    const { state } = fresh();
    const spec = (x: string) => [{ kind: "local" as const, name: "slow", args: { create: "true", update: "sleep 20", environment: { X: x } }, opts: { customTimeouts: { update: "1s" } } }];
    await runInProcess(spec("1"), state);
    const r = runInChild("up", spec("2"), state);
    assert.equal(r.code, 1);
    assert.match(r.summary.errors.join("\n"), /slow: update timed out after 1s \(customTimeouts\.update\)/);
  });

  it("fails a delete that runs over the customTimeouts.delete stored when the resource was created, and keeps it", async () => {
    const { state } = fresh();
    await runInProcess([{ kind: "local", name: "slow", args: { create: "true", delete: "sleep 20" }, opts: { customTimeouts: { delete: "1s" } } }], state);
    const r = runInChild("up", [], state);
    assert.equal(r.code, 1);
    assert.match(r.summary.errors.join("\n"), /slow: delete failed: delete timed out after 1s \(customTimeouts\.delete\)/);
    assert.ok(stored(state, "slow"), "a resource whose delete failed stays in the state");
  });

  it("parses customTimeouts like Go's time.ParseDuration", () => {
    assert.equal(parseDuration("10m"), 600);
    assert.equal(parseDuration("1h30m"), 5400);
    assert.equal(parseDuration("1.5s"), 1.5);
    assert.equal(parseDuration("250ms"), 0.25);
    assert.throws(() => parseDuration("10 minutes"), /unable to parse customTimeout Value 10 minutes/);
  });

  it("fails on resource options it does not model, naming each option", () => {
    const r = runInChild("up", [
      { kind: "local", name: "ok", args: { create: "true" } },
      { kind: "local", name: "protected", args: { create: "true" }, opts: { protect: true } },
      { kind: "local", name: "retained", args: { create: "true" }, opts: { retainOnDelete: true } },
      { kind: "local", name: "imported", args: { create: "true" }, opts: { import: "some-id" } },
      { kind: "local", name: "with", args: { create: "true" }, opts: { deletedWith: "ok" } },
      { kind: "local", name: "transformed", args: { create: "true" }, opts: { transforms: true } },
      { kind: "local", name: "hidden", args: { create: "true" }, opts: { hideDiffs: ["create"] } },
      { kind: "local", name: "replacing", args: { create: "true" }, opts: { replaceWith: ["ok"] } },
      { kind: "component", name: "guarded", opts: { protect: true } },
    ], fresh().state);
    assert.equal(r.code, 1);
    const text = r.summary.errors.join("\n");
    for (const [name, option] of [["protected", "protect"], ["retained", "retainOnDelete"], ["imported", "import"], ["with", "deletedWith"], ["transformed", "transforms"], ["hidden", "hideDiffs"], ["replacing", "replaceWith"], ["guarded", "protect"]]) {
      assert.match(text, new RegExp(`${name}: uses ${option}, which the engine double does not model`), `${name} (${option})`);
    }
    assert.deepEqual(r.summary.operations.map((o) => `${o.op} ${o.name}`), ["create ok"]);
  });
});
