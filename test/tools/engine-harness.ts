// Runs engine-fixture programs under the engine double, for the double's own tests:
//  - runInProcess: in the test process (only for runs where no resource fails: a failed resource
//    surfaces as an unhandled rejection, which fails the test under node --test);
//  - runInChild: one run in a child process (this file as its main), for runs that may fail.
// Both use only the Engine's API, the way test/tools/engine-cli.ts does.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Engine, RunSummary } from "./engine";
import { FixtureResource, buildProgram } from "./engine-fixture";

export const PROJECT = "mailfleet";
export const STACK = "engine-test";

export interface RunOptions {
  preview?: boolean;
  /** Config secrets (what engine-cli hands to addSecret). */
  secrets?: string[];
}

export type Verb = "up" | "preview" | "destroy";

function summaryOf(engine: Engine, ok: boolean): RunSummary {
  return {
    ok: ok && engine.errors.length === 0,
    errors: engine.errors,
    secretLeaks: engine.secretLeaks,
    loggedSecrets: engine.loggedSecrets,
    operations: engine.operations,
    sshSessions: engine.sshSessions,
    outputs: {},
  };
}

/** One `up` (or preview) of `spec` in this process. */
export async function runInProcess(spec: FixtureResource[], statePath: string, opts: RunOptions = {}): Promise<RunSummary> {
  const engine = new Engine({ statePath, preview: !!opts.preview });
  for (const s of opts.secrets ?? []) engine.addSecret(s);
  await engine.setMocks(PROJECT, STACK);
  await pulumi.runtime.runInPulumiStack(async () => buildProgram(spec));
  await pulumi.runtime.disconnect();
  await new Promise((r) => setTimeout(r, 50));
  const ok = await engine.finish(engine.errors.length === 0);
  return summaryOf(engine, ok);
}

/** `destroy` of a state in this process. */
export async function destroyInProcess(statePath: string): Promise<RunSummary> {
  const engine = new Engine({ statePath, preview: false });
  return summaryOf(engine, await engine.destroy());
}

export interface ChildRun {
  code: number;
  summary: RunSummary;
  log: string;
}

/** One run in a child process: its summary, exit code and log. */
export function runInChild(verb: Verb, spec: FixtureResource[], statePath: string, opts: RunOptions = {}, env: NodeJS.ProcessEnv = {}): ChildRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailfleet-fixture-"));
  try {
    const specFile = path.join(dir, "spec.json");
    const resultFile = path.join(dir, "result.json");
    fs.writeFileSync(specFile, JSON.stringify({ spec, secrets: opts.secrets ?? [] }));
    const r = spawnSync(process.execPath, ["--import", "tsx", __filename, verb, specFile, statePath, resultFile], {
      encoding: "utf8",
      env: { ...process.env, ...env },
      timeout: 120_000,
    });
    const summary: RunSummary = fs.existsSync(resultFile)
      ? JSON.parse(fs.readFileSync(resultFile, "utf8"))
      : { ok: false, errors: [r.stderr || String(r.error)], secretLeaks: [], loggedSecrets: [], operations: [], sshSessions: 0, outputs: {} };
    return { code: r.status ?? 1, summary, log: r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function childMain(): Promise<number> {
  const [verb, specFile, statePath, resultFile] = process.argv.slice(2);
  const { spec, secrets } = JSON.parse(fs.readFileSync(specFile, "utf8")) as { spec: FixtureResource[]; secrets: string[] };
  const log = (line: string) => process.stderr.write(`[engine] ${line}\n`);
  let summary: RunSummary;
  try {
    const engine = new Engine({ statePath, preview: verb === "preview", log });
    for (const s of secrets) engine.addSecret(s);
    process.on("unhandledRejection", (err) => {
      const message = engine.mask(String((err as Error)?.message ?? err));
      if (!engine.errors.some((e) => message.includes(e) || e.includes(message))) engine.errors.push(message);
    });
    if (verb === "destroy") {
      summary = summaryOf(engine, await engine.destroy());
    } else {
      await engine.setMocks(PROJECT, STACK);
      await pulumi.runtime.runInPulumiStack(async () => buildProgram(spec)).catch((err) => engine.errors.push(String(err?.message ?? err)));
      await pulumi.runtime.disconnect().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
      summary = summaryOf(engine, await engine.finish(engine.errors.length === 0));
    }
  } catch (err) {
    summary = { ok: false, errors: [(err as Error).message], secretLeaks: [], loggedSecrets: [], operations: [], sshSessions: 0, outputs: {} };
  }
  fs.writeFileSync(resultFile, JSON.stringify(summary));
  return summary.ok ? 0 : 1;
}

if (require.main === module) {
  childMain().then((code) => process.exit(code), (err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(2);
  });
}

/** A scratch folder for one test file: numbered state and log paths, and readers for both. */
export function scratch(prefix: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mailfleet-${prefix}-`));
  let n = 0;
  return {
    dir,
    fresh: () => {
      n++;
      return { state: path.join(dir, `state-${n}.json`), log: path.join(dir, `log-${n}.txt`) };
    },
    lines: (log: string) => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : []),
  };
}

/** The operations of a run that changed something, as "op name". */
export const changes = (ops: Array<{ op: string; name: string }>) => ops.filter((o) => o.op !== "same").map((o) => `${o.op} ${o.name}`);
