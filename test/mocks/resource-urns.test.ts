// Every resource the program can register, as the URN the real engine keys its state by
// (stack, project, parent type chain, type, name), compared with test/golden/resources.txt. A
// renamed, re-typed or re-parented resource is a replacement under `pulumi up` (the old one is
// deleted after the new one is created), so this list changes only on purpose, with `aliases`.
// Regenerate with UPDATE_GOLDEN=1 and review the diff. Under mocks: proves the names, not that
// the engine would diff them the same way.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { fullStack } from "../fixtures/stacks";
import { Registered, runProgramUnderMocks } from "../tools/mock-program";

const GOLDEN = path.join(__dirname, "..", "golden", "resources.txt");
let registered: Registered[] = [];

before(async () => {
  registered = await runProgramUnderMocks(fullStack.config, fullStack.secretKeys);
});

/**
 * The URN of each registration: urn:pulumi:STACK::PROJECT::PARENT-TYPES$TYPE::NAME, where the
 * parent chain leaves out the root stack resource, as the engine does.
 */
function urns(all: Registered[]): string[] {
  const byName = new Map(all.map((r) => [r.name, r]));
  const chain = (r: Registered): string[] => {
    const parent = byName.get(r.parent);
    return parent && parent.type !== "pulumi:pulumi:Stack" ? [...chain(parent), parent.type] : [];
  };
  return all.map((r) => `urn:pulumi:mock-test::mailfleet::${[...chain(r), r.type].join("$")}::${r.name}`).sort();
}

describe("resource identity", () => {
  it("registers exactly the resources of test/golden/resources.txt, by URN", () => {
    const actual = `${urns(registered).join("\n")}\n`;
    if (process.env.UPDATE_GOLDEN) fs.writeFileSync(GOLDEN, actual);
    assert.equal(actual, fs.readFileSync(GOLDEN, "utf8"));
  });
});
