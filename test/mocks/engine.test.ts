// The engine double itself: a command:local:Command runs for real, a secret on its stdin is
// masked in everything the engine reports, and a step that prints its secret is flagged (so the
// leak assertions of the other suites can fail).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { Engine } from "../tools/engine";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailfleet-engine-"));

async function run(program: () => void, statePath: string): Promise<Engine> {
  const engine = new Engine({ statePath, preview: false });
  await pulumi.runtime.setMocks(engine.mocks(), "mailfleet", "engine-test", false);
  await pulumi.runtime.runInPulumiStack(async () => program());
  await pulumi.runtime.disconnect();
  await new Promise((r) => setTimeout(r, 100));
  await engine.finish(engine.errors.length === 0);
  return engine;
}

describe("the engine double", () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("runs a local command, masks its secret, and flags the step that printed it", async () => {
    const engine = await run(() => {
      new command.local.Command("quiet", { create: "wc -c", stdin: pulumi.secret("s3cr3t-value-1") });
      new command.local.Command("leaky", { create: "cat", stdin: pulumi.secret("s3cr3t-value-2") });
    }, path.join(dir, "state.json"));
    assert.deepEqual(engine.errors, []);
    const ops = Object.fromEntries(engine.operations.map((o) => [o.name, o]));
    assert.equal(ops.quiet.stdout?.trim(), "14");
    assert.equal(ops.leaky.stdout, "[secret]");
    assert.deepEqual(engine.secretLeaks, ["leaky"]);
    const state = fs.readFileSync(path.join(dir, "state.json"), "utf8");
    assert.ok(!state.includes("s3cr3t-value"), "the state file holds a plaintext secret");
  });
});
