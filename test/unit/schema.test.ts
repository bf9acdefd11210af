// Pulumi.yaml's config schema, the program's key table and the README describe the same keys.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as YAML from "yaml";
import { CONFIG_KEYS, NAMESPACE } from "../../components/config";

const ROOT = path.join(__dirname, "..", "..");
const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));

describe("Pulumi.yaml", () => {
  it("declares the project the way the engine double and the CLI expect", () => {
    assert.equal(project.name, NAMESPACE);
    assert.equal(project.runtime.name, "nodejs");
    assert.equal(project.main, "index.ts");
    assert.equal(project.stackConfigDir, "stacks");
  });

  it("declares exactly the keys the program reads, with type, description, default and secret", () => {
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
    assert.deepEqual(project.config, expected);
  });

  it("never gives a secret key a default (the CLI would store it in plain text)", () => {
    for (const [key, spec] of Object.entries(CONFIG_KEYS)) assert.ok(!(spec.secret && spec.default !== undefined), key);
  });
});

describe("README", () => {
  it("has a configuration table row for every key", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    for (const key of Object.keys(CONFIG_KEYS)) assert.match(readme, new RegExp(`^\\| \`${key}\` \\|`, "m"), key);
  });
});
