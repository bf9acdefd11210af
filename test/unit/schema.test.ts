// Pulumi.yaml's config schema, the program's key table and the README describe the same keys.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as YAML from "yaml";
import { CONFIG_KEYS, NAMESPACE } from "../../components/config";

const ROOT = path.join(__dirname, "..", "..");
const PROJECT_FILE = path.join(ROOT, "Pulumi.yaml");

/** Pulumi.yaml's config section as CONFIG_KEYS says it should be. */
function expectedSchema(): Record<string, unknown> {
  const expected: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
    expected[`${NAMESPACE}:${key}`] = {
      type: spec.type,
      ...(spec.type === "array" ? { items: { type: "string" } } : {}),
      description: spec.description,
      ...(spec.secret ? { secret: true } : {}),
      ...(spec.default !== undefined ? { default: spec.default } : {}),
    };
  }
  return expected;
}

// UPDATE_GOLDEN=1 rewrites Pulumi.yaml's config section from CONFIG_KEYS (review the diff).
if (process.env.UPDATE_GOLDEN) {
  const doc = YAML.parseDocument(fs.readFileSync(PROJECT_FILE, "utf8"));
  doc.set("config", expectedSchema());
  fs.writeFileSync(PROJECT_FILE, doc.toString({ lineWidth: 0 }));
}
const project = YAML.parse(fs.readFileSync(PROJECT_FILE, "utf8"));

describe("Pulumi.yaml", () => {
  it("declares the project the way the engine double and the CLI expect", () => {
    assert.equal(project.name, NAMESPACE);
    assert.equal(project.runtime.name, "nodejs");
    assert.equal(project.main, "index.ts");
    assert.equal(project.stackConfigDir, "stacks");
  });

  it("declares exactly the keys the program reads, with type, description, default and secret", () => {
    assert.deepEqual(project.config, expectedSchema());
  });

  it("never gives a secret key a default (the CLI would store it in plain text)", () => {
    for (const [key, spec] of Object.entries(CONFIG_KEYS)) assert.ok(!(spec.secret && spec.default !== undefined), key);
  });

  it("says in the description how to set an optional secret", () => {
    for (const [key, spec] of Object.entries(CONFIG_KEYS)) if (spec.secretWhenSet) assert.match(spec.description, /--secret/, key);
  });
});

describe("README", () => {
  it("has a configuration table row for every key", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    for (const key of Object.keys(CONFIG_KEYS)) assert.match(readme, new RegExp(`^\\| \`${key}\` \\|`, "m"), key);
  });
});
