// The engine double keys its state by the real URN, so renaming or re-parenting a resource is what
// it is under `pulumi up`: a create of the new URN and a delete of the old one, unless an alias
// maps the old URN (or the old parent's) to the new one.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { after, describe, it } from "node:test";
import { Engine } from "../tools/engine";
import { FixtureResource } from "../tools/engine-fixture";
import { changes, runInProcess, scratch } from "../tools/engine-harness";

const { dir, fresh, lines } = scratch("engine-urns");
const urns = (state: string) => (JSON.parse(fs.readFileSync(state, "utf8")).resources as Array<{ urn: string }>).map((r) => r.urn);

/** A local command that logs its create and (stored) delete as `label`. */
function step(name: string, log: string, extra: Partial<FixtureResource> = {}, label = name): FixtureResource {
  return { kind: "local", name, args: { create: `echo create ${label} >> ${log}`, delete: `echo delete ${label} >> ${log}` }, ...extra };
}

describe("the engine double, resource identity", () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("keys the state by the real URN: parent type chain, root stack left out", async () => {
    const { state, log } = fresh();
    await runInProcess([
      { kind: "component", name: "outer", type: "engine:test:Outer" },
      { kind: "component", name: "inner", type: "engine:test:Inner", parent: "outer" },
      step("leaf", log, { parent: "inner" }),
      step("top", log),
    ], state);
    assert.deepEqual(urns(state).sort(), [
      "urn:pulumi:engine-test::mailfleet::command:local:Command::top",
      "urn:pulumi:engine-test::mailfleet::engine:test:Outer$engine:test:Inner$command:local:Command::leaf",
      "urn:pulumi:engine-test::mailfleet::engine:test:Outer$engine:test:Inner::inner",
      "urn:pulumi:engine-test::mailfleet::engine:test:Outer::outer",
      "urn:pulumi:engine-test::mailfleet::pulumi:pulumi:Stack::mailfleet-engine-test",
    ]);
  });

  it("replaces a re-parented resource: creates the new URN, then deletes the old one", async () => {
    const { state, log } = fresh();
    const groups: FixtureResource[] = [{ kind: "component", name: "g1" }, { kind: "component", name: "g2", type: "engine:test:Other" }];
    await runInProcess([...groups, step("moved", log, { parent: "g1" })], state);
    const r = await runInProcess([...groups, step("moved", log, { parent: "g2" })], state);
    assert.deepEqual(changes(r.operations), ["create moved", "delete moved"]);
    assert.deepEqual(lines(log), ["create moved", "create moved", "delete moved"]);
    assert.ok(urns(state).includes("urn:pulumi:engine-test::mailfleet::engine:test:Other$command:local:Command::moved"));
    assert.ok(!urns(state).includes("urn:pulumi:engine-test::mailfleet::engine:test:Group$command:local:Command::moved"));
  });

  it("replaces a renamed resource: creates the new name, then deletes the old one", async () => {
    const { state, log } = fresh();
    await runInProcess([step("old-name", log)], state);
    const r = await runInProcess([step("new-name", log)], state);
    assert.deepEqual(changes(r.operations), ["create new-name", "delete old-name"]);
    assert.deepEqual(lines(log), ["create old-name", "create new-name", "delete old-name"]);
  });

  it("keeps a renamed or re-parented resource that has an alias to its old URN: nothing runs", async () => {
    const { state, log } = fresh();
    const groups: FixtureResource[] = [{ kind: "component", name: "g1" }, { kind: "component", name: "g2" }];
    await runInProcess([...groups, step("a", log, { parent: "g1" }), step("b", log)], state);
    const r = await runInProcess([
      ...groups,
      step("a", log, { parent: "g2", opts: { aliases: [{ parent: "g1" }] } }),
      step("b2", log, { opts: { aliases: [{ name: "b" }] } }, "b"),
    ], state);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(changes(r.operations), []);
    assert.deepEqual(lines(log).sort(), ["create a", "create b"]);
    const again = await runInProcess([...groups, step("a", log, { parent: "g2" }), step("b2", log, {}, "b")], state);
    assert.deepEqual(changes(again.operations), [], "the state now holds the new URNs");
  });

  it("moves the children of an aliased component with it (inherited aliases, name prefix included)", async () => {
    const { state, log } = fresh();
    await runInProcess([{ kind: "component", name: "app" }, step("app-worker", log, { parent: "app" }), step("child", log, { parent: "app" })], state);
    const r = await runInProcess([
      { kind: "component", name: "svc", type: "engine:test:Service", opts: { aliases: [{ name: "app", type: "engine:test:Group" }] } },
      step("svc-worker", log, { parent: "svc" }, "app-worker"),
      step("child", log, { parent: "svc" }),
    ], state);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(changes(r.operations), []);
    assert.deepEqual(lines(log).sort(), ["create app-worker", "create child"]);
  });

  it("accepts an alias given as the old URN", async () => {
    const { state, log } = fresh();
    await runInProcess([step("x", log)], state);
    const r = await runInProcess([step("y", log, { opts: { aliases: ["urn:pulumi:engine-test::mailfleet::command:local:Command::x"] } }, "x")], state);
    assert.deepEqual(changes(r.operations), []);
  });

  it("fails on a version 1 state file of the older double, saying why instead of guessing", () => {
    const { state } = fresh();
    fs.writeFileSync(state, JSON.stringify({ version: 1, resources: { "command:local:Command::x": { type: "command:local:Command", name: "x" } } }));
    assert.throws(() => new Engine({ statePath: state, preview: false }), /version 1 state file of an older engine double.*real URN/s);
  });
});
