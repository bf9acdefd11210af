// Deletes in the engine double, as `pulumi up` and `pulumi destroy` do them: with the old state's
// inputs (the stored connection included), replacement deletes at the end of the update in
// reverse dependency order, pending deletes of a failed update kept in state and carried out at
// the end of the next one; and a preview that carries out nothing.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import { FixtureResource } from "../tools/engine-fixture";
import { changes, destroyInProcess, runInChild, runInProcess, scratch, STACK } from "../tools/engine-harness";
import { runStack } from "../tools/stack-run";

const { dir, fresh, lines } = scratch("engine-del");
const resources = (state: string) => JSON.parse(fs.readFileSync(state, "utf8")).resources as Array<{ urn: string; delete?: boolean }>;

/** A local command logging `create LABEL` / `delete LABEL` (the delete text is stored at create time). */
const step = (name: string, log: string, label: string, extra: Partial<FixtureResource> = {}): FixtureResource => ({
  kind: "local",
  name,
  args: { create: `echo create ${label} >> ${log}; echo ${label}`, delete: `echo delete ${label} >> ${log}`, triggers: [label], ...((extra.args as object) ?? {}) },
  ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== "args")),
});

describe("the engine double, deletes", () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("runs replacement deletes at the end of the update, after every create and update, dependents first", async () => {
    const { state, log } = fresh();
    const spec = (v: string): FixtureResource[] => [
      step("base", log, `base-${v}`),
      step("leaf", log, "leaf", { args: { triggers: [{ $ref: "base.stdout" }] } }),
      { kind: "local", name: "other", dependsOn: ["leaf"], args: { create: `echo run other $X >> ${log}`, environment: { X: v } } },
    ];
    await runInProcess(spec("v1"), state);
    fs.rmSync(log);
    const r = await runInProcess(spec("v2"), state);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(changes(r.operations), ["replace base", "replace leaf", "update other"]);
    assert.deepEqual(lines(log), ["create base-v2", "create leaf", "run other v2", "delete leaf", "delete base-v1"]);
  });

  it("deletes with the inputs stored in state (environment, stdin), not the current program's", async () => {
    const { state, log } = fresh();
    const spec = (v: string): FixtureResource[] => [{
      kind: "local",
      name: "svc",
      args: { create: "true", delete: `echo "delete $TARGET $(cat)" >> ${log}`, environment: { TARGET: `target-${v}` }, stdin: { $secret: `stdin-${v}` }, triggers: [v] },
    }];
    await runInProcess(spec("v1"), state);
    await runInProcess(spec("v2"), state);
    await runInProcess([], state);
    assert.deepEqual(lines(log), ["delete target-v1 stdin-v1", "delete target-v2 stdin-v2"]);
  });

  it("deletes a remote command over the connection stored at create time, key included", async () => {
    const { state, log } = fresh();
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin, { recursive: true });
    // A stand-in for OpenSSH: records the login, the key it was given and the command; no host.
    fs.writeFileSync(path.join(bin, "ssh"), [
      "#!/bin/sh",
      'prev=""; key=""; login=""',
      'for a in "$@"; do [ "$prev" = "-i" ] && key=$(cat "$a"); [ "$a" = "--" ] && login="$prev"; prev="$a"; done',
      `echo "$login $key $prev" >> ${log}`,
    ].join("\n"), { mode: 0o755 });
    const remote = (name: string, host: string, key: string, del?: string): FixtureResource => ({
      kind: "remote",
      name,
      args: { connection: { host, user: "admin", privateKey: { $secret: key } }, ...(del ? { delete: del } : {}), addPreviousOutputInEnv: false },
    });
    const savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath}`;
    try {
      await runInProcess([remote("cleanup", "h-one.invalid", "KEY-ONE-0001", "remove-things")], state);
      const r = await runInProcess([remote("other", "h-two.invalid", "KEY-TWO-0002")], state);
      assert.deepEqual(r.errors, []);
      assert.deepEqual(changes(r.operations), ["create other", "delete cleanup"]);
    } finally {
      process.env.PATH = savedPath;
    }
    assert.deepEqual(lines(log), ["admin@h-one.invalid KEY-ONE-0001 remove-things"]);
  });

  it("keeps the old copies of a failed update as pending deletes and deletes them at the end of the next up", async () => {
    const { state, log } = fresh();
    const spec = (v: string, userCommand: string): FixtureResource[] => [
      step("base", log, `base-${v}`),
      { kind: "local", name: "user", args: { create: userCommand, stdin: { $ref: "base.stdout" } } },
    ];
    await runInProcess(spec("v1", `echo "run user $(cat)" >> ${log}`), state);
    const failed = runInChild("up", spec("v2", "exit 7"), state);
    assert.equal(failed.code, 1);
    assert.match(failed.summary.errors.join("\n"), /user: .*exited 7/);
    const pending = resources(state).filter((r) => r.urn.endsWith("::base"));
    assert.deepEqual(pending.map((r) => !!r.delete).sort(), [false, true], "the old base stays in state, marked for deletion");
    const r = await runInProcess(spec("v2", `echo "run user $(cat)" >> ${log}`), state);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(changes(r.operations), ["update user", "delete base"]);
    assert.deepEqual(lines(log), ["create base-v1", "run user base-v1", "create base-v2", "run user base-v2", "delete base-v1"]);
    assert.equal(resources(state).filter((r) => r.urn.endsWith("::base")).length, 1);
  });

  it("destroys everything in reverse dependency order with the stored state, leaving an empty state", async () => {
    const { state, log } = fresh();
    await runInProcess([
      { kind: "component", name: "group" },
      step("first", log, "first", { parent: "group" }),
      step("second", log, "second", { dependsOn: ["first"] }),
      { kind: "marker", name: "third", dependsOn: ["second"], args: { path: path.join(dir, "third"), content: "x", log } },
    ], state);
    fs.rmSync(log);
    const r = await destroyInProcess(state);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.operations.map((o) => `${o.op} ${o.name}`), ["delete third", "delete second", "delete first"]);
    assert.deepEqual(lines(log), [`delete ${path.join(dir, "third")}`, "delete second", "delete first"]);
    assert.deepEqual(resources(state), []);
  });

  it("runs a test program with engine-cli up and removes it with engine-cli destroy", () => {
    const { state, log } = fresh();
    const specFile = path.join(dir, "cli-spec.json");
    fs.writeFileSync(specFile, JSON.stringify([step("one", log, "one"), step("two", log, "two", { dependsOn: ["one"] })]));
    const program = path.join(__dirname, "..", "tools", "engine-fixture-program.ts");
    process.env.MAILFLEET_ENGINE_FIXTURE = specFile;
    try {
      const up = runStack("up", STACK, {}, state, program);
      assert.equal(up.code, 0, up.log);
      const down = runStack("destroy", STACK, {}, state);
      assert.equal(down.code, 0, down.log);
      assert.deepEqual(down.summary.operations.map((o) => `${o.op} ${o.name}`), ["delete two", "delete one"]);
    } finally {
      delete process.env.MAILFLEET_ENGINE_FIXTURE;
    }
    assert.deepEqual(lines(log), ["create one", "create two", "delete two", "delete one"]);
    assert.deepEqual(resources(state), []);
  });

  it("previews every planned operation, deletes included, and starts no process at all", async () => {
    const { state, log } = fresh();
    const n = path.basename(state, ".json");
    const marker = (name: string) => path.join(dir, `ran-${n}-${name}`);
    const touching = (name: string, v: string, extra: Record<string, unknown> = {}): FixtureResource => ({
      kind: "local",
      name,
      args: { create: `touch ${marker(name)}-create`, update: `touch ${marker(name)}-update`, delete: `touch ${marker(name)}-delete`, ...extra, environment: { V: v } },
    });
    await runInProcess([
      touching("kept", "1"), touching("changed", "1"), touching("replaced", "1", { triggers: ["1"] }), touching("removed", "1"),
      { kind: "marker", name: "moved", args: { path: path.join(dir, `m-${n}-a`), content: "x", log } },
    ], state);
    for (const f of fs.readdirSync(dir).filter((f) => f.startsWith(`ran-${n}-`))) fs.rmSync(path.join(dir, f));
    const before = fs.readFileSync(state, "utf8");
    // The module object itself (not an import namespace), as the engine's own `spawn` calls see it.
    const cp = require("node:child_process") as typeof import("node:child_process");
    const spawn = cp.spawn;
    let spawned = 0;
    cp.spawn = ((...args: Parameters<typeof spawn>) => (spawned++, spawn(...args))) as typeof spawn;
    let r;
    try {
      r = await runInProcess([
        touching("kept", "1"), touching("changed", "2"), touching("replaced", "1", { triggers: ["2"] }), touching("added", "1"),
        { kind: "marker", name: "moved", args: { path: path.join(dir, `m-${n}-b`), content: "x", log } },
      ], state, { preview: true });
    } finally {
      cp.spawn = spawn;
    }
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.operations.map((o) => `${o.op} ${o.name}`).sort(), [
      "create added", "delete removed", "replace moved", "replace replaced", "same kept", "update changed",
    ]);
    assert.equal(spawned, 0, "preview spawned a process");
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith(`ran-${n}-`)), [], "preview ran a command");
    assert.deepEqual(lines(log), [`create ${path.join(dir, `m-${n}-a`)}`], "preview ran a dynamic provider's create or delete");
    assert.equal(fs.readFileSync(state, "utf8"), before, "preview wrote the state");
  });
});
