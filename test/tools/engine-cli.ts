// Command line of the engine double: one stack run per process, as with the real CLI.
//   node --import tsx test/tools/engine-cli.ts up|preview|destroy --stack NAME
//        [--overrides FILE] [--state FILE] [--result FILE] [--project DIR] [--program FILE]
// --overrides: JSON {"mailfleet:key": {"value": "...", "secret": true}} replacing stack values
//   (how the sandbox feeds the booted host's address, keys and generated passwords).
// Like `pulumi up`, it first checks the stack config against Pulumi.yaml's schema (required keys,
// types, secret keys stored as secrets), then runs index.ts. Exit status 0 only if every
// resource succeeded. `destroy` deletes what the state holds without running the program.
// --program: run that file instead of index.ts, with the overrides as the only config (tests of
// the double itself). Passphrase-encrypted `secure:` values are not decrypted: pass them as
// overrides.
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { Engine, RunSummary } from "./engine";

interface Override {
  value: string;
  secret?: boolean;
}

interface SchemaEntry {
  type?: "string" | "integer" | "boolean" | "array";
  items?: { type: string };
  secret?: boolean;
  default?: unknown;
  description?: string;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** The stack's config as the CLI would hand it to the program, after the CLI's own checks. */
export function loadStackConfig(projectDir: string, stack: string, overrides: Record<string, Override>) {
  const project = YAML.parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8"));
  const name: string = project.name;
  const stackFile = path.join(projectDir, project.stackConfigDir ?? ".", `Pulumi.${stack}.yaml`);
  const stackDoc = fs.existsSync(stackFile) ? YAML.parse(fs.readFileSync(stackFile, "utf8")) ?? {} : {};
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const problems: string[] = [];
  const toText = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
  for (const [key, value] of Object.entries<unknown>(stackDoc.config ?? {})) {
    const full = key.includes(":") ? key : `${name}:${key}`;
    if (overrides[full]) continue;
    if (value && typeof value === "object" && "secure" in (value as object)) {
      problems.push(`${full}: encrypted values are not decrypted by the engine double; pass it with --overrides`);
      continue;
    }
    config[full] = toText(value);
  }
  for (const [key, o] of Object.entries(overrides)) {
    config[key] = o.value;
    if (o.secret) secretKeys.push(key);
  }
  const schema: Record<string, SchemaEntry> = project.config ?? {};
  const missing: string[] = [];
  for (const [key, entry] of Object.entries(schema)) {
    const full = key.includes(":") ? key : `${name}:${key}`;
    if (config[full] === undefined) {
      if (entry.default === undefined) missing.push(key);
      else config[full] = toText(entry.default);
      continue;
    }
    if (entry.secret && !secretKeys.includes(full)) problems.push(`Stack '${stack}' with configuration key '${key}' must be encrypted as it's secret`);
    const v = config[full];
    const ok =
      entry.type === "integer" ? /^-?[0-9]+$/.test(v)
      : entry.type === "boolean" ? /^(true|false)$/.test(v)
      : entry.type === "array" ? (() => { try { return Array.isArray(JSON.parse(v)); } catch { return false; } })()
      : true;
    if (!ok) problems.push(`Stack '${stack}' with configuration key '${key}' must be of type '${entry.type}'`);
  }
  if (missing.length) problems.push(`Stack '${stack}' is missing configuration values: ${missing.join(", ")}`);
  return { project: name, config, secretKeys, problems };
}

const emptySummary = (): RunSummary => ({ ok: false, errors: [], secretLeaks: [], loggedSecrets: [], operations: [], sshSessions: 0, outputs: {} });

/** A test program (--program): no stack file, only the overrides as config. */
function overridesOnly(projectDir: string, overrides: Record<string, Override>) {
  const project: string = YAML.parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")).name;
  const config = Object.fromEntries(Object.entries(overrides).map(([k, o]) => [k, o.value]));
  const secretKeys = Object.entries(overrides).filter(([, o]) => o.secret).map(([k]) => k);
  return { project, config, secretKeys, problems: [] as string[] };
}

/** An exported value as the CLI prints it; unknown in a preview (its apply would never run). */
async function exportedValue(v: unknown): Promise<unknown> {
  const out = pulumi.output(v as any) as pulumi.Output<unknown>;
  if (await pulumi.isSecret(out)) return "[secret]";
  if (!(await (out as unknown as { isKnown: Promise<boolean> }).isKnown)) return "[unknown]";
  return new Promise((res) => out.apply((x) => (res(x), x)));
}

/** `pulumi up` / `pulumi preview`: the program under the engine's mocks, then its deletes. */
async function runProgram(engine: Engine, program: string, project: string, stack: string, config: Record<string, string>, secretKeys: string[]) {
  const noteError = (err: unknown) => {
    const message = engine.mask(String((err as Error)?.message ?? err));
    if (!engine.errors.some((e) => message.includes(e) || e.includes(message))) engine.errors.push(message);
  };
  process.on("unhandledRejection", noteError);
  await engine.setMocks(project, stack);
  pulumi.runtime.setAllConfig(config, secretKeys);
  let outputs: Record<string, unknown> = {};
  try {
    const exported = (await pulumi.runtime.runInPulumiStack(async () => require(program))) ?? {};
    for (const [k, v] of Object.entries(exported)) outputs[k] = await exportedValue(v);
  } catch (err) {
    noteError(err);
    outputs = {};
  }
  await pulumi.runtime.disconnect().catch(() => undefined);
  // A failed input (an exception inside an apply) surfaces as an unhandled rejection only after
  // disconnect() returns: give it a moment to arrive before judging the run.
  await new Promise((res) => setTimeout(res, 200));
  const ok = await engine.finish(engine.errors.length === 0);
  return { ok, outputs };
}

async function main(): Promise<number> {
  const verb = process.argv[2];
  if (verb !== "up" && verb !== "preview" && verb !== "destroy") {
    throw new Error("usage: engine-cli.ts up|preview|destroy --stack NAME [--overrides FILE] [--state FILE] [--result FILE] [--project DIR] [--program FILE]");
  }
  const projectDir = path.resolve(arg("project") ?? ".");
  const stack = arg("stack") ?? "dev";
  const overridesFile = arg("overrides");
  const overrides: Record<string, Override> = overridesFile ? JSON.parse(fs.readFileSync(overridesFile, "utf8")) : {};
  const statePath = path.resolve(arg("state") ?? path.join(projectDir, ".sandbox", `state-${stack}.json`));
  const resultPath = arg("result");
  const programArg = arg("program");
  const log = (line: string) => process.stderr.write(`[engine] ${line}\n`);

  const { project, config, secretKeys, problems } = programArg ? overridesOnly(projectDir, overrides) : loadStackConfig(projectDir, stack, overrides);
  const summary = emptySummary();
  let engine: Engine | undefined;
  try {
    engine = new Engine({ statePath, preview: verb === "preview", log });
  } catch (err) {
    summary.errors = [(err as Error).message];
  }
  if (engine) {
    for (const key of secretKeys) engine.addSecret(config[key]);
    if (verb === "destroy") {
      // Like `pulumi destroy`, it does not run the program: the state says what to delete and how.
      summary.ok = await engine.destroy();
    } else if (problems.length) {
      summary.errors = problems;
    } else {
      const program = path.resolve(programArg ?? path.join(projectDir, "index.ts"));
      Object.assign(summary, await runProgram(engine, program, project, stack, config, secretKeys));
    }
    Object.assign(summary, { errors: [...summary.errors, ...engine.errors], secretLeaks: engine.secretLeaks, loggedSecrets: engine.loggedSecrets, operations: engine.operations, sshSessions: engine.sshSessions });
    summary.ok = summary.ok && summary.errors.length === 0;
  }
  if (resultPath) fs.writeFileSync(resultPath, `${JSON.stringify(summary, null, 1)}\n`);
  const counts = summary.operations.reduce<Record<string, number>>((acc, o) => ((acc[o.op] = (acc[o.op] ?? 0) + 1), acc), {});
  log(`${summary.ok ? "done" : "FAILED"}: ${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(", ") || "no resources"}; ${summary.sshSessions} SSH sessions`);
  for (const e of summary.errors) log(`error: ${e}`);
  return summary.ok ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`[engine] ${(err as Error).message}\n`);
      process.exit(2);
    },
  );
}
