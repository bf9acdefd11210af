// Benchmark: reading the stack config and evaluating the whole program (under Pulumi's mocks) for
// 1, 100, 1,000, 10,000 and 20,000 mailboxes, each mailbox with an alias.
//   npm run bench:config
// Prints figures and the growth ratio between sizes (linear growth: about 2 from 10,000 to
// 20,000); asserts nothing. Each program evaluation runs in a process of its own (Pulumi's
// runtime holds one program per process).
import { spawnSync } from "child_process";
import * as path from "path";
import { readConfig } from "../components/config";
import { fullStack } from "../test/fixtures/stacks";

const SIZES = [1, 100, 1000, 10000, 20000];

export function stackOf(n: number): Record<string, string> {
  const boxes = Array.from({ length: n }, (_, i) => `user${i}@example.test`);
  return {
    ...fullStack.config,
    "mailfleet:mailboxes": JSON.stringify(boxes),
    "mailfleet:mailboxPasswords": boxes.map((b) => `${b}: pw-${b}-long`).join("\n"),
    "mailfleet:aliases": JSON.stringify(boxes.map((b, i) => `alias${i}@example.test: ${b}`)),
  };
}

function seconds(f: () => void): number {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

if (process.argv[2] === "--evaluate") {
  // Child: one program evaluation under mocks.
  const { runProgramUnderMocks } = require("../test/tools/mock-program") as typeof import("../test/tools/mock-program");
  const n = Number(process.argv[3]);
  const t0 = process.hrtime.bigint();
  runProgramUnderMocks(stackOf(n), fullStack.secretKeys).then((r) => {
    console.log(JSON.stringify({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, resources: r.length }));
  });
} else {
  const read: number[] = [];
  for (const n of SIZES) {
    const s = seconds(() => readConfig("bench", stackOf(n), new Set(fullStack.secretKeys)));
    read.push(s);
    const child = spawnSync(process.execPath, ["--import", "tsx", path.join(__dirname, "config.ts"), "--evaluate", String(n)], { encoding: "utf8" });
    const evaluation = JSON.parse(child.stdout.trim().split("\n").pop() ?? "{}") as { seconds?: number; resources?: number };
    console.log(`${String(n).padStart(6)} mailboxes: readConfig ${s.toFixed(3)} s, program evaluation ${evaluation.seconds?.toFixed(2) ?? "failed"} s, ${evaluation.resources ?? "?"} resources`);
  }
  console.log(`readConfig growth 10,000 -> 20,000 mailboxes: x${(read[4] / read[3]).toFixed(2)} (2.0 is linear)`);
}
