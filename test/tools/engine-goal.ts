// A registration request (what the SDK sends the engine's resource monitor) read the way
// pkg/resource/deploy/source_eval.go reads it: URN, parent, dependencies and the resource options.
// Options the double does not model are refused by name, so a program that relies on one fails
// loudly instead of getting a silently different deployment.
import { ROOT_STACK_TYPE, Timeouts, newUrn, qualifiedType, urnName, urnType, urnUnder } from "./engine-state";

/** An alias as the SDK sends it: a whole URN, or a spec whose empty fields mean "as now". */
export interface AliasSpec {
  urn?: string;
  name?: string;
  type?: string;
  stack?: string;
  project?: string;
  parent?: string;
  noParent?: boolean;
}

export interface Goal {
  urn: string;
  type: string;
  name: string;
  custom: boolean;
  parent?: string;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  aliases: AliasSpec[];
  additionalSecretOutputs: string[];
  ignoreChanges: string[];
  replaceOnChanges: string[];
  /** undefined: the provider decides (deleteBeforeReplace not set in the program). */
  deleteBeforeReplace?: boolean;
  customTimeouts: Timeouts;
}

/** The parts of the SDK's RegisterResourceRequest (protobuf) that the double reads. */
type Request = any;

export interface UrnContext {
  project: string;
  stack: string;
  /** The engine URN of a URN the mock monitor handed out (the mock computes them wrongly). */
  real(urn: string): string;
}

export function goalFromRequest(req: Request, ctx: UrnContext): Goal {
  const type: string = req.getType();
  const name: string = req.getName();
  const parent = req.getParent() ? ctx.real(req.getParent()) : undefined;
  const custom: boolean = req.getCustom();
  const unsupported = unsupportedOptions(req, type, custom);
  if (unsupported.length) {
    throw new Error(`uses ${unsupported.join(", ")}, which the engine double does not model: it would not behave as under pulumi up`);
  }
  const propertyDependencies: Record<string, string[]> = {};
  for (const [key, deps] of req.getPropertydependenciesMap().entries() as Iterable<[string, any]>) {
    propertyDependencies[key] = (deps.getUrnsList() as string[]).map(ctx.real);
  }
  const timeouts = req.getCustomtimeouts();
  const dbrDefined: boolean = req.getDeletebeforereplacedefined();
  return {
    urn: urnUnder(parent, type, name, ctx.project, ctx.stack),
    type,
    name,
    custom,
    parent,
    dependencies: (req.getDependenciesList() as string[]).map(ctx.real),
    propertyDependencies,
    aliases: aliasesOf(req, ctx),
    additionalSecretOutputs: custom ? req.getAdditionalsecretoutputsList() : [],
    ignoreChanges: custom ? req.getIgnorechangesList() : [],
    replaceOnChanges: custom ? req.getReplaceonchangesList() : [],
    deleteBeforeReplace: dbrDefined ? req.getDeletebeforereplace() : undefined,
    customTimeouts: custom && timeouts ? timeoutsOf(timeouts) : {},
  };
}

/**
 * Options the double cannot honour. Component resources ignore several options in the real engine
 * too (source_eval.go: checkComponentOption), so those pass for components.
 */
function unsupportedOptions(req: Request, type: string, custom: boolean): string[] {
  const out: string[] = [];
  const hooks = req.getHooks();
  const hookLists = hooks ? ["BeforeCreate", "AfterCreate", "BeforeUpdate", "AfterUpdate", "BeforeDelete", "AfterDelete", "OnError"] : [];
  if (type.startsWith("pulumi:providers:")) out.push("an explicit provider resource");
  if (req.getProtect()) out.push("protect");
  if (custom && req.getRetainondelete()) out.push("retainOnDelete");
  if (custom && req.getDeletedwith()) out.push("deletedWith");
  if (custom && req.getReplaceWithList().length) out.push("replaceWith");
  if (req.hasReplacementTrigger?.()) out.push("replacementTrigger");
  if (req.getImportid()) out.push("import");
  if (req.getTransformsList().length) out.push("transforms");
  if (hookLists.some((h) => hooks[`get${h}List`]().length)) out.push("hooks");
  if (req.getHidediffsList().length) out.push("hideDiffs");
  if (req.getProvider()) out.push("provider (an explicit provider)");
  if (req.getProvidersMap().getLength()) out.push("providers");
  if (req.getRemote()) out.push("a remote (multi-language) component");
  if (req.getEnvvarmappingsMap().getLength()) out.push("envVarMappings");
  if (req.getStateMigrationsList().length) out.push("stateMigrations");
  if (custom && req.getCustomtimeouts()?.getRead()) out.push("customTimeouts.read");
  return out;
}

function timeoutsOf(t: Request): Timeouts {
  const out: Timeouts = {};
  for (const [key, text] of [["create", t.getCreate()], ["update", t.getUpdate()], ["delete", t.getDelete()]] as const) {
    if (text) out[key] = parseDuration(text);
  }
  return out;
}

/** Go's time.ParseDuration, as the engine parses customTimeouts ("1h30m", "10m", "2.5s", "300ms"). */
export function parseDuration(text: string): number {
  const units: Record<string, number> = { ns: 1e-9, us: 1e-6, "µs": 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  const re = /([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * units[m[2]];
    at = re.lastIndex;
  }
  if (!text || at !== text.length) throw new Error(`unable to parse customTimeout Value ${text}`);
  return total;
}

function aliasesOf(req: Request, ctx: UrnContext): AliasSpec[] {
  const out: AliasSpec[] = (req.getAliasurnsList() as string[]).map((urn) => ({ urn }));
  for (const a of req.getAliasesList()) {
    if (a.hasUrn()) {
      out.push({ urn: a.getUrn() });
      continue;
    }
    const s = a.getSpec();
    out.push({
      name: s.getName() || undefined,
      type: s.getType() || undefined,
      stack: s.getStack() || undefined,
      project: s.getProject() || undefined,
      parent: s.getParenturn() ? ctx.real(s.getParenturn()) : undefined,
      noParent: s.getNoparent(),
    });
  }
  return out;
}

/** An alias spec as a URN (step_generator.go: collapseAliasToUrn). */
export function collapseAlias(goal: Goal, alias: AliasSpec, parentAliases: Map<string, string>, ctx: UrnContext): string {
  if (alias.urn) return alias.urn;
  let parent = alias.parent ? parentAliases.get(alias.parent) ?? alias.parent : goal.parent;
  if (alias.noParent || (parent && qualifiedType(parent) === ROOT_STACK_TYPE)) parent = undefined;
  return urnUnder(parent, alias.type ?? goal.type, alias.name ?? goal.name, alias.project ?? ctx.project, alias.stack ?? ctx.stack);
}

/**
 * Every URN the resource may have had before: its aliases, and the aliases it inherits from an
 * aliased parent (step_generator.go: generateAliases and inheritedChildAlias).
 */
export function aliasUrns(goal: Goal, parentAliases: Map<string, string>, ctx: UrnContext): string[] {
  const out = new Set<string>();
  const own = goal.aliases.map((a) => collapseAlias(goal, a, parentAliases, ctx));
  own.forEach((u) => out.add(u));
  const parentAlias = goal.parent ? parentAliases.get(goal.parent) : undefined;
  if (goal.parent && parentAlias) {
    const inherit = (type: string, name: string) => {
      const parentName = urnName(goal.parent!);
      const aliasName = name.startsWith(parentName) ? urnName(parentAlias) + name.slice(parentName.length) : name;
      return newUrn(ctx.stack, ctx.project, qualifiedType(parentAlias), type, aliasName);
    };
    out.add(inherit(goal.type, goal.name));
    for (const u of own) out.add(inherit(urnType(u), urnName(u)));
  }
  return [...out];
}
