// The resource providers the double carries out, each doing what its real counterpart does on
// Check/Diff/Create/Update/Delete:
//  - @pulumi/command 1.2.1 (command:local:Command, command:remote:Command): outputs are the inputs
//    plus stdout/stderr (one trailing newline trimmed); an output is secret when the input of the
//    same name holds a secret (infer's default secret flow), so stdout/stderr are plain text
//    unless additionalSecretOutputs; Update runs `update` (else `create`); Delete runs the OLD
//    state's `delete` with the OLD state's connection, stdin and environment; customTimeouts end
//    the command (pulumi-go-provider's cancel middleware);
//  - dynamic providers (pulumi-nodejs:dynamic:*), loaded from the serialized `__provider` the way
//    Pulumi's dynamic provider host loads them: they see no secrets, and the engine re-marks
//    outputs whose input of the same name held one (annotateSecrets). The host ignores timeouts.
//  - anything else needs a provider plugin: registered and diffed, never carried out.
import { randomBytes } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { DiffResult, inputDiff } from "./engine-diff";
import { Connection, MODELLED_CONNECTION_FIELDS, ProcessResult, runLocal, runSsh } from "./engine-exec";
import { Props, ResourceState, containsSecrets, isSecret, makeSecret, plain, plainProps } from "./engine-state";

export interface StepContext {
  /** The resource name, as steps are reported. */
  step: string;
  op: "create" | "update" | "delete";
  /** Seconds; undefined: no limit. */
  timeout?: number;
  preview: boolean;
  /** A step's output reached the user: in its error message, or in the log. */
  expose(where: "error" | "log", text: string): void;
  sshSession(): void;
  log(line: string): void;
}

export interface StepResult {
  id?: string;
  outputs: Props;
  /** The command's stdout as it ran (for the report). */
  stdout?: string;
}

export interface Provider {
  check(olds: Props | undefined, news: Props): Promise<Props>;
  diff(old: ResourceState, news: Props): Promise<DiffResult>;
  create(news: Props, ctx: StepContext): Promise<StepResult>;
  update(old: ResourceState, news: Props, ctx: StepContext): Promise<StepResult>;
  delete(old: ResourceState, ctx: StepContext): Promise<void>;
}

export function providerFor(type: string): Provider {
  if (type === "command:local:Command" || type === "command:remote:Command") return new CommandProvider(type === "command:remote:Command");
  if (type.startsWith("pulumi-nodejs:dynamic")) return new DynamicProvider();
  return new PluginProvider();
}

/** Marks each output secret whose input of the same name holds a secret (infer's default flow). */
function flowSecrets(outputs: Props, inputs: Props): Props {
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, containsSecrets(inputs[k]) && !isSecret(v) ? makeSecret(plain(v)) : v]));
}

const trimNewline = (s: string) => (s.endsWith("\n") ? s.slice(0, -1) : s);

class CommandProvider implements Provider {
  constructor(private readonly remote: boolean) {}

  async check(_olds: Props | undefined, news: Props): Promise<Props> {
    const p = plainProps(news);
    const refused = this.remote
      ? Object.keys((p.connection ?? {}) as Props).filter((k) => !MODELLED_CONNECTION_FIELDS.includes(k)).map((k) => `connection.${k}`)
      : ["assetPaths", "archivePaths"].filter((k) => p[k] !== undefined);
    if (refused.length) throw new Error(`uses ${refused.join(", ")}, which the engine double does not model`);
    return news;
  }

  async diff(old: ResourceState, news: Props): Promise<DiffResult> {
    // `triggers` is replaceOnChanges in the provider's schema; the SDK also sends "triggers[*]".
    return inputDiff(old.inputs, news, ["triggers"]);
  }

  async create(news: Props, ctx: StepContext): Promise<StepResult> {
    const id = `${ctx.step}${randomBytes(4).toString("hex")}`;
    if (ctx.preview) return { id: undefined, outputs: { ...news } };
    const text = plain(news.create) as string | undefined;
    const r = text === undefined ? { stdout: "", stderr: "" } : await this.run(text, plainProps(news), {}, ctx);
    return { id, outputs: flowSecrets({ ...news, stdout: trimNewline(r.stdout), stderr: trimNewline(r.stderr) }, news), stdout: text === undefined ? undefined : r.stdout };
  }

  async update(old: ResourceState, news: Props, ctx: StepContext): Promise<StepResult> {
    const previous = plainProps(old.outputs) as { stdout?: string; stderr?: string };
    const base = { ...news, stdout: previous.stdout ?? "", stderr: previous.stderr ?? "" };
    if (ctx.preview) return { outputs: { ...news } };
    const p = plainProps(news);
    const text = (p.update ?? p.create) as string | undefined;
    if (text === undefined) return { outputs: flowSecrets(base, news) };
    const r = await this.run(text, p, previous, ctx);
    return { outputs: flowSecrets({ ...base, stdout: trimNewline(r.stdout), stderr: trimNewline(r.stderr) }, news), stdout: r.stdout };
  }

  /** Delete gets the old state only: its delete command, connection, stdin and environment. */
  async delete(old: ResourceState, ctx: StepContext): Promise<void> {
    const p = plainProps(old.outputs);
    if (typeof p.delete !== "string") return;
    await this.run(p.delete, p, p as { stdout?: string; stderr?: string }, ctx);
  }

  private async run(text: string, p: Props, previous: { stdout?: string; stderr?: string }, ctx: StepContext): Promise<ProcessResult> {
    ctx.log(`${ctx.op} ${ctx.step}: running`);
    const stdin = typeof p.stdin === "string" && p.stdin.length ? p.stdin : undefined;
    let r: ProcessResult;
    if (this.remote) {
      const env = Object.keys((p.environment ?? {}) as Props);
      if (env.some((k) => !/^(LANG|LC_.*)$/.test(k))) {
        throw new Error(`environment ${env.join(",")} would be refused: Debian's sshd accepts only LANG and LC_* (AcceptEnv)`);
      }
      r = await runSsh(p.connection as Connection, text, stdin, ctx.timeout, ctx.sshSession);
    } else {
      r = await runLocal(text, { ...(p as object), stdin }, previous, ctx.timeout);
    }
    const logging = (p.logging as string | undefined) ?? "stdoutAndStderr";
    if (logging === "stdout" || logging === "stdoutAndStderr") ctx.expose("log", r.stdout);
    if (logging === "stderr" || logging === "stdoutAndStderr") ctx.expose("log", r.stderr);
    if (r.timedOut) {
      ctx.expose("error", `${r.stdout}\n${r.stderr}`);
      throw new Error(`${ctx.op} timed out after ${ctx.timeout}s (customTimeouts.${ctx.op}): running ${JSON.stringify(text)}`);
    }
    if (r.code !== 0) {
      // Both providers quote the command text and its whole output in the error.
      ctx.expose("error", `${text}\n${r.stdout}\n${r.stderr}`);
      const where = this.remote ? ` on ${(p.connection as Connection).host}` : "";
      throw new Error(`command exited ${r.code}${where}: running ${JSON.stringify(text)}:\n${(r.stderr.trim() || r.stdout.trim())}`);
    }
    return r;
  }
}

type DynamicProviderImpl = pulumi.dynamic.ResourceProvider;

/** The host's copy of a dynamic provider: the serialized `__provider` function, required as code. */
function loadDynamic(serialized: unknown): DynamicProviderImpl {
  if (typeof serialized !== "string") throw new Error("dynamic resource without a serialized __provider");
  const requireFromString = require("require-from-string") as (code: string) => { handler(): DynamicProviderImpl };
  return requireFromString(serialized).handler();
}

/** plain(), with unknown values as the dynamic provider host passes them (the unknown sentinel). */
function forHost(props: Props): Props {
  const walk = (v: unknown): unknown =>
    pulumi.isUnknown(v) ? pulumi.runtime.unknownValue : Array.isArray(v) ? v.map(walk) : v && typeof v === "object" ? Object.fromEntries(Object.entries(plain(v) as Props).map(([k, x]) => [k, walk(x)])) : plain(v);
  return walk(props) as Props;
}

/** provider_plugin.go: annotateSecrets, for providers that do not accept secrets. */
function annotateSecrets(outs: Props, ins: Props): Props {
  const out: Props = { ...outs };
  for (const [k, inValue] of Object.entries(ins)) {
    if (!(k in out)) continue;
    const o = out[k];
    const isObj = (v: unknown) => !!v && typeof v === "object" && !Array.isArray(v) && !isSecret(v);
    if (isObj(o) && isObj(inValue)) out[k] = annotateSecrets(o as Props, inValue as Props);
    else if (!isSecret(o) && containsSecrets(inValue)) out[k] = makeSecret(o);
  }
  return out;
}

class DynamicProvider implements Provider {
  async check(olds: Props | undefined, news: Props): Promise<Props> {
    const provider = loadDynamic(pulumi.isUnknown(news.__provider) ? olds?.__provider : news.__provider);
    if (!provider.check) return news;
    const result = await provider.check(forHost(olds ?? {}), forHost(news));
    if (result.failures?.length) throw new Error(`check failed: ${result.failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
    return annotateSecrets({ ...(result.inputs ?? forHost(news)), __provider: news.__provider }, news);
  }

  async diff(old: ResourceState, news: Props): Promise<DiffResult> {
    const provider = loadDynamic(pulumi.isUnknown(news.__provider) ? old.outputs.__provider : news.__provider);
    const r = provider.diff ? await provider.diff(old.id!, forHost(old.outputs), forHost(news)) : {};
    const replaceKeys = r.replaces ?? [];
    if (r.changes === true || r.changes === false) return { changes: r.changes, changedKeys: [], paths: [], replaceKeys, deleteBeforeReplace: r.deleteBeforeReplace };
    // DIFF_UNKNOWN: the engine compares old and new inputs itself, secrets unwrapped (diffResource).
    return { ...inputDiff(old.inputs, news, [], true), replaceKeys, deleteBeforeReplace: r.deleteBeforeReplace };
  }

  async create(news: Props, ctx: StepContext): Promise<StepResult> {
    // The host does not support preview: the engine previews a create as its inputs.
    if (ctx.preview) return { id: undefined, outputs: { ...news } };
    const created = await loadDynamic(news.__provider).create(forHost(news));
    return { id: created.id, outputs: annotateSecrets({ ...(created.outs ?? {}), __provider: news.__provider }, news) };
  }

  async update(old: ResourceState, news: Props, ctx: StepContext): Promise<StepResult> {
    if (ctx.preview) return { outputs: { ...news } };
    const provider = loadDynamic(news.__provider);
    // Without an update method the host returns no outputs but __provider (resultIncludingProvider).
    const result = provider.update ? (await provider.update(old.id!, forHost(old.outputs), forHost(news))) ?? {} : {};
    return { outputs: annotateSecrets({ ...(result.outs ?? {}), __provider: news.__provider }, news) };
  }

  async delete(old: ResourceState): Promise<void> {
    const provider = loadDynamic(old.outputs.__provider);
    if (provider.delete) await provider.delete(old.id!, forHost(old.outputs));
  }
}

/** A cloud or DNS provider's resource: the double has no plugin for it and carries nothing out. */
class PluginProvider implements Provider {
  async check(_olds: Props | undefined, news: Props): Promise<Props> {
    return news;
  }
  async diff(old: ResourceState, news: Props): Promise<DiffResult> {
    return inputDiff(old.inputs, news);
  }
  async create(news: Props, ctx: StepContext): Promise<StepResult> {
    return { id: ctx.preview ? undefined : `${ctx.step}-id`, outputs: { ...news } };
  }
  async update(_old: ResourceState, news: Props): Promise<StepResult> {
    return { outputs: { ...news } };
  }
  async delete(): Promise<void> {}
}
