// Runs the test layers with Node's test runner in one process tree, so one summary closes the
// run: `node test/run.mjs [unit|mocks|e2e ...]` (default: all). npm scripts put the project's
// own Node (the npm `node` package) first on PATH; this uses whichever Node runs it.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const layers = process.argv.slice(2).length ? process.argv.slice(2) : ["unit", "mocks", "e2e"];
const files = layers.flatMap((layer) =>
  readdirSync(join(root, "test", layer)).filter((f) => f.endsWith(".test.ts")).sort().map((f) => join("test", layer, f)),
);
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", "--test-reporter=spec", ...files], {
  cwd: root,
  stdio: "inherit",
});
process.exit(r.status ?? 1);
