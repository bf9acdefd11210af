// The engine double: runs the real Pulumi program under pulumi.runtime.setMocks and carries out its
// resources the way `pulumi up` (engine 3.2xx) does with @pulumi/command 1.2.1.
//
// What it models (file by file):
//  - engine-goal.ts: the registration request the SDK sends (read by wrapping the mock monitor's
//    registerResource): real URNs (urn:pulumi:STACK::PROJECT::PARENT-TYPE-CHAIN$TYPE::NAME, the
//    root stack left out), dependencies, property dependencies, and the options additionalSecretOutputs,
//    aliases (specs and URNs, inherited by children of an aliased parent), deleteBeforeReplace,
//    replaceOnChanges, ignoreChanges and customTimeouts. Any other option that changes what the
//    engine does (protect, retainOnDelete, deletedWith, replaceWith, replacementTrigger, import,
//    transforms, hooks, hideDiffs, explicit providers, remote components, envVarMappings,
//    stateMigrations, customTimeouts.read) fails the resource, naming the option; so do
//    `.get`/read and stack transforms.
//  - engine-diff.ts: create / same / update / replace from old inputs against new ones (after
//    ignoreChanges), `triggers` and replaceOnChanges replacing, the dynamic provider's own diff.
//  - engine-providers.ts / engine-exec.ts: command:local:Command and command:remote:Command run for
//    real (/bin/sh or the interpreter, OpenSSH with the connection's key and pinned host key),
//    dynamic resources through their serialized provider; other types are registered and never
//    carried out (no plugin). customTimeouts end a command (its process group is killed) and fail
//    the step; Pulumi's dynamic provider host ignores timeouts, and so does the double. Connection
//    fields other than key login (password, proxy, agent) and local assetPaths/archivePaths fail.
//    A dynamic provider's own diff reports no changed keys, so replaceOnChanges cannot act on it,
//    exactly as in the engine (applyReplaceOnChanges works on the provider's changed keys).
//  - Replacements create the new resource first and delete the old one at the END of the update,
//    after every create and update, with other deletes, dependents before their dependencies
//    (ScheduleDeletes); deleteBeforeReplace deletes first, together with the dependents a
//    replacement would replace (calculateDependentReplacements). A failed update leaves the old
//    copies in state marked `delete` (and deleted-ahead resources marked `pendingReplacement`);
//    the next `up` deletes them at its end, as the engine has done since v3.46 (not first: see
//    pulumi/pulumi a3128e50, "Do not execute pending deletes at the start of deployment").
//  - Deletes use the old state only (the delete command, the stored connection with its key,
//    stdin, environment), never the current program. `destroy` deletes everything that way.
//  - engine-state.ts: the state (version 2) holds inputs and outputs as the checkpoint would: plain
//    text, except secret values, which are encrypted and marked with Pulumi's secret signature.
//    Secret inputs make the outputs of the same name secret; additionalSecretOutputs too. The
//    state is written after every step, like the engine's checkpoints.
//  - engine-secrets.ts: steps that expose a secret, per component (a whole secret, one line of
//    a multi-line secret, one value of a "name<TAB>value" bundle): `secretLeaks` for a command's
//    stdout/stderr stored in plain text or an error quoting the command and its output;
//    `loggedSecrets` for output @pulumi/command writes to the log (its `logging` input).
//  - preview: no step is carried out (no process, no dynamic create/update/delete); every
//    resource gets its planned operation, planned deletes included.
// What it does not model: provider plugins other than `command` and dynamic providers, refresh,
// targets, `--continue-on-error`, stopping new steps after a failure (independent resources still
// run), the display and `preview --diff`, the parallelism of deletes, stack outputs in state.
// Only custom resources appear in `operations`; components are kept in state (for aliases and
// parents) but run nothing.
import * as pulumi from "@pulumi/pulumi";
import { unknown } from "@pulumi/pulumi/output";
import { applyIgnoreChanges, replaceOnChangesHit } from "./engine-diff";
import { Goal, UrnContext, aliasUrns, goalFromRequest } from "./engine-goal";
import { Provider, StepContext, StepResult, providerFor } from "./engine-providers";
import { SecretSet } from "./engine-secrets";
import { Props, ResourceState, StateStore, isSecret, makeSecret, urnName } from "./engine-state";

export type Operation = "create" | "update" | "replace" | "same" | "delete";

export interface OpRecord {
  urn: string;
  type: string;
  name: string;
  op: Operation;
  seconds: number;
  sshSessions: number;
  /** The command's stdout as it ran, secrets masked. */
  stdout?: string;
}

export interface EngineOptions {
  statePath: string;
  preview: boolean;
  log?: (line: string) => void;
}

export interface RunSummary {
  ok: boolean;
  errors: string[];
  /**
   * Steps that put a secret where the user (or anyone with the state) sees it: a command's
   * stdout/stderr stored in plain text (not marked secret), or an error message quoting the
   * command and its output. Tests assert this list is empty.
   */
  secretLeaks: string[];
  /** Steps whose output @pulumi/command logged (its `logging` input) contained a secret. */
  loggedSecrets: string[];
  operations: OpRecord[];
  sshSessions: number;
  outputs: Record<string, unknown>;
}

/** What happened to a resource of the old state in this run. */
type Fate = "live" | "superseded" | "condemned" | "pendingReplacement" | "deleted";

interface Plan {
  op: "create" | "update" | "replace" | "same";
  inputs: Props;
  deleteBeforeReplace: boolean;
}

interface MockResult {
  id: string | undefined;
  state: Record<string, unknown>;
}

interface Exposure {
  step: string;
  where: "state" | "error" | "log";
  text: string;
}

interface MonitorLike {
  registerResource(req: any, cb: (err: any, res: any) => void): void;
  readResource(req: any, cb: (err: any, res: any) => void): void;
  registerStackTransform(req: any, cb: (err: any, res: any) => void): void;
  registerStackInvokeTransform(req: any, cb: (err: any, res: any) => void): void;
}

export class Engine {
  readonly operations: OpRecord[] = [];
  readonly errors: string[] = [];
  readonly secretLeaks: string[] = [];
  readonly loggedSecrets: string[] = [];
  sshSessions = 0;
  private readonly secrets = new SecretSet();
  private readonly store: StateStore;
  private readonly olds: ResourceState[];
  private readonly fate = new Map<ResourceState, Fate>();
  private readonly news: ResourceState[] = [];
  private readonly registered = new Set<string>();
  private readonly matched = new Set<ResourceState>();
  /** Old URN → the resource that claimed it through an alias (step_generator: sg.aliased). */
  private readonly claimedBy = new Map<string, string>();
  /** URN → the old URN it was found under, for its children's aliases (sg.aliases). */
  private readonly parentAliases = new Map<string, string>();
  private readonly replaceRecords = new Map<ResourceState, OpRecord>();
  private readonly exposures: Exposure[] = [];
  private readonly mockUrns = new Map<string, string>();
  private pending?: { type: string; name: string; goal?: Goal; error?: Error };
  private readonly urns: UrnContext = { project: "", stack: "", real: (urn) => this.mockUrns.get(urn) ?? urn };

  /** Throws if the state file cannot be used (an older version): nothing may run then. */
  constructor(private readonly opts: EngineOptions) {
    this.store = new StateStore(opts.statePath);
    this.olds = this.store.load();
    for (const o of this.olds) {
      this.fate.set(o, "live");
      this.secrets.addFrom(o.inputs);
      this.secrets.addFrom(withoutPrintedOutput(o.outputs));
    }
  }

  /** Treats a value as a secret from now on (config secrets handed to the program). */
  addSecret(value: string): void {
    this.secrets.add(value);
  }

  /** Masks every secret known so far. */
  mask(text: string): string {
    return this.secrets.mask(text);
  }

  private log(line: string): void {
    this.opts.log?.(this.mask(line));
  }

  /** pulumi.runtime.setMocks with this engine, then attach(): what a run needs before the program. */
  async setMocks(project: string, stack: string): Promise<void> {
    await pulumi.runtime.setMocks(this.mocks(), project, stack, this.opts.preview);
    this.attach();
  }

  mocks(): pulumi.runtime.Mocks {
    return {
      newResource: (args) => this.newResource(args),
      call: (args) => {
        throw new Error(`unexpected provider function call ${args.token}`);
      },
    };
  }

  /**
   * Wraps the mock monitor (after setMocks) so that each registration's request reaches the
   * engine: the mock hands `newResource` only type, name and inputs. The mock calls newResource
   * synchronously from registerResource, so the request is handed over in `pending`.
   */
  attach(): void {
    this.urns.project = pulumi.getProject();
    this.urns.stack = pulumi.getStack();
    const monitor = pulumi.runtime.getMonitor() as unknown as MonitorLike;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
      let goal: Goal | undefined;
      let error: Error | undefined;
      try {
        goal = goalFromRequest(req, this.urns);
      } catch (err) {
        error = err as Error;
      }
      this.pending = { type: req.getType(), name: req.getName(), goal, error };
      try {
        register(req, (err, res) => {
          if (!err && res && goal) this.mockUrns.set(res.getUrn(), goal.urn);
          cb(err, res);
        });
      } finally {
        this.pending = undefined;
      }
    };
    const refuse = (what: string) => (_req: unknown, cb: (err: unknown, res: unknown) => void) => {
      const message = `${what} is not modelled by the engine double`;
      this.errors.push(message);
      cb(new Error(message), undefined);
    };
    monitor.readResource = refuse("reading an existing resource (.get / a read)");
    monitor.registerStackTransform = refuse("a stack transform (registerResourceTransform)");
    monitor.registerStackInvokeTransform = refuse("a stack invoke transform");
  }

  private async newResource(args: pulumi.runtime.MockResourceArgs): Promise<MockResult> {
    const pending = this.pending;
    this.pending = undefined;
    try {
      if (!pending || pending.type !== args.type || pending.name !== args.name) {
        throw new Error("the engine double did not see the registration request: call engine.attach() right after pulumi.runtime.setMocks");
      }
      if (pending.error) throw pending.error;
      return await this.register(pending.goal!, args.inputs as Props);
    } catch (err) {
      const message = this.mask(`${args.type} ${args.name}: ${(err as Error).message}`);
      this.errors.push(message);
      this.log(`FAILED ${message}`);
      throw new Error(message);
    }
  }

  private async register(goal: Goal, inputs: Props): Promise<MockResult> {
    if (process.env.MAILFLEET_ENGINE_DEBUG) this.log(`register ${goal.urn}`);
    if (this.registered.has(goal.urn)) throw new Error(`Duplicate resource URN '${goal.urn}'; try giving it a unique name`);
    this.registered.add(goal.urn);
    const old = this.findOld(goal);
    if (!goal.custom) return this.registerComponent(goal, old);
    this.secrets.addFrom(inputs);
    const provider = providerFor(goal.type);
    const plan = await this.plan(goal, old, inputs, provider);
    return this.opts.preview ? this.previewStep(goal, old, plan, provider) : this.applyStep(goal, old, plan, provider);
  }

  /** step_generator.go getOldResource: by URN first, then by each alias. */
  private findOld(goal: Goal): ResourceState | undefined {
    const claimer = this.claimedBy.get(goal.urn);
    if (claimer) throw new Error(`Duplicate resource URN '${goal.urn}': ${claimer} already claimed it through an alias`);
    for (const urn of [goal.urn, ...aliasUrns(goal, this.parentAliases, this.urns)]) {
      const old = this.olds.find((o) => o.urn === urn && !o.delete);
      if (!old) continue;
      if (urn !== goal.urn) {
        if (this.registered.has(urn) || this.claimedBy.has(urn)) {
          throw new Error(`Duplicate resource alias '${urn}' applied to resource with URN '${goal.urn}' conflicting with resource with URN '${this.claimedBy.get(urn) ?? urn}'`);
        }
        this.claimedBy.set(urn, goal.urn);
        this.parentAliases.set(goal.urn, urn);
      }
      this.matched.add(old);
      return old;
    }
    return undefined;
  }

  private registerComponent(goal: Goal, old: ResourceState | undefined): MockResult {
    if (!this.opts.preview) {
      this.news.push(this.entryFor(goal, undefined, {}, {}));
      if (old) this.fate.set(old, "superseded");
      this.checkpoint();
    }
    return { id: undefined, state: {} };
  }

  private async plan(goal: Goal, old: ResourceState | undefined, inputs: Props, provider: Provider): Promise<Plan> {
    if (!old) return { op: "create", inputs: await provider.check(undefined, inputs), deleteBeforeReplace: false };
    const ignored = applyIgnoreChanges(inputs, old.inputs, goal.ignoreChanges);
    if (ignored.invalid.length) this.log(`${goal.name}: cannot ignore changes in added or removed elements of the path: ${ignored.invalid.join(", ")}`);
    const checked = await provider.check(old.inputs, ignored.inputs);
    if (old.pendingReplacement) return { op: "replace", inputs: checked, deleteBeforeReplace: false };
    const diff = await provider.diff(old, checked);
    if (process.env.MAILFLEET_ENGINE_DEBUG && diff.changes) this.log(`${goal.name}: changed ${JSON.stringify(diff.paths)}`);
    if (!diff.changes) return { op: "same", inputs: checked, deleteBeforeReplace: false };
    const replace = diff.replaceKeys.length > 0 || replaceOnChangesHit(diff, goal.replaceOnChanges).length > 0;
    const dbr = goal.deleteBeforeReplace ?? diff.deleteBeforeReplace ?? false;
    return { op: replace ? "replace" : "update", inputs: checked, deleteBeforeReplace: replace && dbr };
  }

  private async applyStep(goal: Goal, old: ResourceState | undefined, plan: Plan, provider: Provider): Promise<MockResult> {
    const t0 = Date.now();
    const sessions = this.sshSessions;
    let result: StepResult;
    if (plan.op === "same") {
      result = { id: old!.id, outputs: old!.outputs };
    } else if (plan.op === "update") {
      result = { id: old!.id, ...(await provider.update(old!, plan.inputs, this.stepContext(goal.name, "update", goal.customTimeouts.update))) };
    } else {
      if (plan.op === "replace" && plan.deleteBeforeReplace && !old!.pendingReplacement) await this.deleteBeforeReplace(old!);
      result = await provider.create(plan.inputs, this.stepContext(goal.name, "create", goal.customTimeouts.create));
    }
    const entry = this.entryFor(goal, result.id, plan.inputs, this.markOutputs(goal, plan.inputs, result.outputs));
    this.news.push(entry);
    const condemned = !!old && plan.op === "replace" && this.fate.get(old) === "live";
    if (old) this.fate.set(old, condemned ? "condemned" : "superseded");
    this.checkpoint();
    const record = this.note(entry, plan.op, t0, sessions, result.stdout);
    if (condemned) this.replaceRecords.set(old!, record);
    this.exposeStoredOutputs(goal.name, entry);
    return { id: entry.id, state: entry.outputs };
  }

  private async previewStep(goal: Goal, old: ResourceState | undefined, plan: Plan, provider: Provider): Promise<MockResult> {
    let outputs = old?.outputs ?? {};
    if (plan.op !== "same") {
      const ctx = this.stepContext(goal.name, plan.op === "update" ? "update" : "create");
      outputs = (plan.op === "update" ? await provider.update(old!, plan.inputs, ctx) : await provider.create(plan.inputs, ctx)).outputs;
    }
    const keep = plan.op === "same" || plan.op === "update";
    this.note(this.entryFor(goal, undefined, plan.inputs, {}), plan.op, Date.now(), this.sshSessions);
    const state = Object.fromEntries(Object.entries(this.markOutputs(goal, plan.inputs, outputs)).filter(([, v]) => v !== undefined));
    return { id: keep ? old?.id : undefined, state };
  }

  /** step_executor.go: additionalSecretOutputs, and outputs whose input of the same name is secret. */
  private markOutputs(goal: Goal, inputs: Props, outputs: Props): Props {
    const out: Props = { ...outputs };
    for (const k of goal.additionalSecretOutputs) {
      if (k === "id") this.log(`${goal.name}: The 'id' property cannot be made secret. See pulumi/pulumi#2717 for more details.`);
      else if (k in out && !isSecret(out[k])) out[k] = makeSecret(out[k]);
    }
    for (const [k, v] of Object.entries(out)) if (!isSecret(v) && isSecret(inputs[k])) out[k] = makeSecret(v);
    this.secrets.addFrom(withoutPrintedOutput(out));
    return out;
  }

  private entryFor(goal: Goal, id: string | undefined, inputs: Props, outputs: Props): ResourceState {
    const t = goal.customTimeouts;
    return {
      urn: goal.urn,
      custom: goal.custom,
      type: goal.type,
      ...(id ? { id } : {}),
      ...(goal.parent ? { parent: goal.parent } : {}),
      dependencies: goal.dependencies,
      propertyDependencies: goal.propertyDependencies,
      inputs,
      outputs,
      ...(goal.additionalSecretOutputs.length ? { additionalSecretOutputs: goal.additionalSecretOutputs } : {}),
      ...(goal.ignoreChanges.length ? { ignoreChanges: goal.ignoreChanges } : {}),
      ...(goal.replaceOnChanges.length ? { replaceOnChanges: goal.replaceOnChanges } : {}),
      ...(t.create || t.update || t.delete ? { customTimeouts: t } : {}),
    };
  }

  /** A command's stdout/stderr left in plain text in the state. */
  private exposeStoredOutputs(step: string, entry: ResourceState): void {
    if (!entry.type.startsWith("command:")) return;
    for (const k of ["stdout", "stderr"]) {
      const v = entry.outputs[k];
      if (typeof v === "string") this.exposures.push({ step, where: "state", text: v });
    }
  }

  private stepContext(step: string, op: StepContext["op"], timeout?: number, label = step): StepContext {
    return {
      step,
      op,
      timeout: timeout || undefined,
      preview: this.opts.preview,
      expose: (where, text) => this.exposures.push({ step: label, where, text }),
      sshSession: () => this.sshSessions++,
      log: (line) => this.log(line),
    };
  }

  private note(entry: ResourceState, op: Operation, t0: number, sessionsBefore: number, stdout?: string): OpRecord {
    const record: OpRecord = {
      urn: entry.urn,
      type: entry.type,
      name: urnName(entry.urn),
      op,
      seconds: (Date.now() - t0) / 1000,
      sshSessions: this.sshSessions - sessionsBefore,
      ...(stdout === undefined ? {} : { stdout }),
    };
    this.operations.push(record);
    if (op !== "same") this.log(`${this.opts.preview ? "plan: " : ""}${op} ${entry.type} ${record.name}${this.opts.preview ? "" : ` (${record.seconds.toFixed(1)}s)`}`);
    return record;
  }

  // --- deletes ---------------------------------------------------------------------------------

  /** Runs the old state's delete (no-op for components). Throws if it fails. */
  private async runDelete(entry: ResourceState): Promise<void> {
    if (!entry.custom) return;
    const name = urnName(entry.urn);
    this.log(`delete ${name}: running`);
    await providerFor(entry.type).delete(entry, this.stepContext(name, "delete", entry.customTimeouts?.delete, `delete ${name}`));
  }

  /**
   * deleteBeforeReplace: first the dependents a replacement of `root` would replace (those whose
   * replacing inputs depend on it), newest first, then `root`; each stays in state as
   * pendingReplacement until its new copy exists.
   */
  private async deleteBeforeReplace(root: ResourceState): Promise<void> {
    const dependents = await this.dependentReplacements(root);
    for (const entry of [root, ...dependents].reverse()) {
      await this.runDelete(entry);
      entry.pendingReplacement = true;
      this.fate.set(entry, "pendingReplacement");
      this.checkpoint();
    }
  }

  /** step_generator.go calculateDependentReplacements, over the old state's dependency graph. */
  private async dependentReplacements(root: ResourceState): Promise<ResourceState[]> {
    const candidates = this.olds.filter((d) => d !== root && !d.delete && !d.pendingReplacement && !this.matched.has(d) && !this.registered.has(d.urn));
    const reach = new Set([root.urn]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const d of candidates) {
        if (reach.has(d.urn) || !d.dependencies.some((u) => reach.has(u))) continue;
        reach.add(d.urn);
        grew = true;
      }
    }
    const replaceSet = new Set([root.urn]);
    const out: ResourceState[] = [];
    for (const d of candidates.filter((c) => reach.has(c.urn) && c.custom)) {
      const affected = Object.keys(d.inputs).filter((k) => (d.propertyDependencies[k] ?? []).some((u) => replaceSet.has(u)));
      if (!affected.length) continue;
      const withUnknowns: Props = { ...d.inputs, ...Object.fromEntries(affected.map((k) => [k, unknown])) };
      const news = applyIgnoreChanges(withUnknowns, d.inputs, d.ignoreChanges ?? []).inputs;
      const diff = await providerFor(d.type).diff(d, news);
      if (diff.changes && (diff.replaceKeys.length > 0 || replaceOnChangesHit(diff, d.replaceOnChanges ?? []).length > 0)) {
        out.push(d);
        replaceSet.add(d.urn);
      }
    }
    return out;
  }

  /** Old resources this run deletes: gone from the program, replaced, or pending from before. */
  private plannedDeletes(): ResourceState[] {
    const doomed = this.olds.filter((o) => {
      const f = this.fate.get(o);
      return f === "condemned" || (f === "live" && o.delete) || ((f === "live" || f === "pendingReplacement") && !this.matched.has(o));
    });
    return deleteOrder(doomed, this.olds);
  }

  /** Deletes in order; stops at the first failure (the engine cancels), keeping the rest in state. */
  private async runDeletes(entries: ResourceState[]): Promise<boolean> {
    for (const entry of entries) {
      const t0 = Date.now();
      const sessions = this.sshSessions;
      try {
        // A resource deleted ahead of a replacement that never came is only dropped from state.
        if (!entry.pendingReplacement) await this.runDelete(entry);
      } catch (err) {
        const message = this.mask(`${entry.type} ${urnName(entry.urn)}: delete failed: ${(err as Error).message}`);
        this.errors.push(message);
        this.log(`FAILED ${message}`);
        this.checkpoint();
        return false;
      }
      this.fate.set(entry, "deleted");
      this.checkpoint();
      this.noteDelete(entry, t0, sessions);
    }
    return true;
  }

  private noteDelete(entry: ResourceState, t0: number, sessions: number): void {
    if (!entry.custom || entry.pendingReplacement) return;
    const replaced = this.replaceRecords.get(entry);
    if (replaced) {
      // The old copy of a replacement: part of that replace operation.
      replaced.seconds += (Date.now() - t0) / 1000;
      replaced.sshSessions += this.sshSessions - sessions;
      return;
    }
    this.note(entry, "delete", t0, sessions);
  }

  /** After the program: planned deletes (preview) or the deletes (a successful up). Returns ok. */
  async finish(ok: boolean): Promise<boolean> {
    const deletes = this.plannedDeletes();
    if (this.opts.preview) {
      for (const entry of deletes) this.noteDelete(entry, Date.now(), this.sshSessions);
    } else if (ok) {
      ok = await this.runDeletes(deletes);
    }
    this.report();
    if (!this.opts.preview) this.checkpoint();
    return ok && this.errors.length === 0;
  }

  /** `pulumi destroy`: deletes every resource of the state, dependents first. Returns ok. */
  async destroy(): Promise<boolean> {
    const all = deleteOrder(this.olds, this.olds);
    let ok = true;
    if (this.opts.preview) all.forEach((entry) => this.noteDelete(entry, Date.now(), this.sshSessions));
    else ok = await this.runDeletes(all);
    this.report();
    if (!this.opts.preview) this.checkpoint();
    return ok && this.errors.length === 0;
  }

  /** Flags the steps that exposed a secret, and masks what the operations report. */
  private report(): void {
    this.secrets.setPublicLines(this.news.flatMap((r) => plainStrings(r.inputs)).flatMap((s) => s.split(/\r?\n/)));
    for (const e of this.exposures) {
      if (!this.secrets.foundIn(e.text).length) continue;
      const list = e.where === "log" ? this.loggedSecrets : this.secretLeaks;
      if (!list.includes(e.step)) list.push(e.step);
    }
    for (const o of this.operations) if (o.stdout !== undefined) o.stdout = this.mask(o.stdout);
    // What the checkpoint would hold in plain text: any secret there (an output that should have
    // been marked, like a generated private key without additionalSecretOutputs) is a leak too.
    for (const r of this.news) {
      if (plainStrings([r.inputs, r.outputs]).some((s) => this.secrets.foundIn(s).length)) {
        const step = urnName(r.urn);
        if (!this.secretLeaks.includes(step)) this.secretLeaks.push(step);
      }
    }
  }

  /** The state now: this run's resources, then the old ones still standing (or still to delete). */
  private checkpoint(): void {
    if (this.opts.preview) return;
    const carried = this.olds
      .filter((o) => ["live", "condemned", "pendingReplacement"].includes(this.fate.get(o)!))
      .map((o) => (this.fate.get(o) === "condemned" ? { ...o, delete: true } : o));
    this.store.save([...this.news, ...carried]);
  }
}

/**
 * Delete order (ScheduleDeletes): a resource goes only after every other doomed resource that
 * depends on it or is its child; among the free ones, the newest in state first.
 */
export function deleteOrder(doomed: ResourceState[], state: ResourceState[]): ResourceState[] {
  const pos = new Map(state.map((e, i) => [e, i] as const));
  const left = [...doomed].sort((a, b) => (pos.get(b) ?? 0) - (pos.get(a) ?? 0));
  const needs = (o: ResourceState, e: ResourceState) =>
    o !== e && o.urn !== e.urn && (o.parent === e.urn || o.dependencies.includes(e.urn) || Object.values(o.propertyDependencies).some((d) => d.includes(e.urn)));
  const out: ResourceState[] = [];
  while (left.length) {
    const free = left.findIndex((e) => !left.some((o) => needs(o, e)));
    out.push(left.splice(free < 0 ? 0 : free, 1)[0]);
  }
  return out;
}

/**
 * Outputs that are secrets to look for elsewhere: not what a command printed. A step's
 * stdout/stderr kept secret (additionalSecretOutputs) may echo a secret, which is known from its
 * inputs anyway; its other lines ("reloaded dovecot") are no secret other steps could leak.
 */
function withoutPrintedOutput(outputs: Props): Props {
  const { stdout: _stdout, stderr: _stderr, ...rest } = outputs as Props & { stdout?: unknown; stderr?: unknown };
  return rest;
}

/** Every string of a value that is stored in plain text (outside Pulumi's secret wrapper). */
function plainStrings(value: unknown): string[] {
  if (isSecret(value)) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(plainStrings);
  if (value && typeof value === "object") return Object.values(value).flatMap(plainStrings);
  return [];
}
