// Command line of the engine double: one stack run per process, as with the real CLI.
//   node --import tsx test/tools/engine-cli.ts up|preview --stack NAME
//        [--overrides FILE] [--state FILE] [--result FILE] [--project DIR]
// --overrides: JSON {"mailfleet:key": {"value": "...", "secret": true}} replacing stack values
//   (how the sandbox feeds the booted host's address, keys and generated passwords).
// Like `pulumi up`, it first checks the stack config against Pulumi.yaml's schema (required keys,
// types, secret keys stored as secrets), then runs index.ts. Exit status 0 only if every
// resource succeeded. Passphrase-encrypted `secure:` values are not decrypted: pass them as
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

async function main(): Promise<number> {
  const verb = process.argv[2];
  if (verb !== "up" && verb !== "preview") throw new Error("usage: engine-cli.ts up|preview --stack NAME [--overrides FILE] [--state FILE] [--result FILE]");
  const projectDir = path.resolve(arg("project") ?? ".");
  const stack = arg("stack") ?? "dev";
  const overridesFile = arg("overrides");
  const overrides: Record<string, Override> = overridesFile ? JSON.parse(fs.readFileSync(overridesFile, "utf8")) : {};
  const statePath = path.resolve(arg("state") ?? path.join(projectDir, ".sandbox", `state-${stack}.json`));
  const resultPath = arg("result");
  const log = (line: string) => process.stderr.write(`[engine] ${line}\n`);

  const { project, config, secretKeys, problems } = loadStackConfig(projectDir, stack, overrides);
  const engine = new Engine({ statePath, preview: verb === "preview", log });
  for (const key of secretKeys) engine.addSecret(config[key]);
  const summary: RunSummary = { ok: false, errors: [], secretLeaks: [], operations: [], sshSessions: 0, outputs: {} };
  if (problems.length) {
    summary.errors = problems;
  } else {
    process.on("unhandledRejection", (err) => {
      const message = engine.mask(String((err as Error)?.message ?? err));
      if (!engine.errors.some((e) => message.includes(e) || e.includes(message))) engine.errors.push(message);
    });
    await pulumi.runtime.setMocks(engine.mocks(), project, stack, verb === "preview");
    pulumi.runtime.setAllConfig(config, secretKeys);
    let outputs: Record<string, unknown> = {};
    try {
      const program = path.join(projectDir, "index.ts");
      const exported = (await pulumi.runtime.runInPulumiStack(async () => require(program))) ?? {};
      for (const [k, v] of Object.entries(exported)) {
        const out = pulumi.output(v);
        const secret = await pulumi.isSecret(out);
        outputs[k] = secret ? "[secret]" : await new Promise((res) => out.apply((x) => { res(x); return x; }));
      }
    } catch (err) {
      const message = engine.mask(String((err as Error)?.message ?? err));
      if (!engine.errors.some((e) => message.includes(e))) engine.errors.push(message);
      outputs = {};
    }
    await pulumi.runtime.disconnect().catch(() => undefined);
    // A failed input (an exception inside an apply) surfaces as an unhandled rejection only after
    // disconnect() returns: give it a moment to arrive before judging the run.
    await new Promise((res) => setTimeout(res, 200));
    const ok = engine.errors.length === 0;
    await engine.finish(ok);
    Object.assign(summary, { ok, errors: engine.errors, secretLeaks: engine.secretLeaks, operations: engine.operations, sshSessions: engine.sshSessions, outputs });
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
