// Diffs the way the engine (step_generator.go) and @pulumi/command's provider (pulumi-go-provider's
// infer) compute them: old inputs against new inputs, top-level changed keys plus detailed property
// paths, `ignoreChanges` applied to the new inputs first (processIgnoreChanges), and
// `replaceOnChanges` paths turning a change into a replacement (applyReplaceOnChanges).
import * as pulumi from "@pulumi/pulumi";
import { Props, isSecret, makeSecret, unwrapSecret } from "./engine-state";

/** A property path: "a.b", "a[0]", 'a["x.y"]', "a[*]"; "*" matches any one segment. */
export type Path = Array<string | number>;

export interface DiffResult {
  changes: boolean;
  changedKeys: string[];
  /** Detailed diff: the paths that changed. */
  paths: Path[];
  /** Keys the provider says force a replacement. */
  replaceKeys: string[];
  deleteBeforeReplace?: boolean;
}

export function parsePath(text: string): Path {
  const out: Path = [];
  let rest = text;
  while (rest.length) {
    const m =
      /^\[(\d+)\]/.exec(rest) ?? /^\["((?:[^"\\]|\\.)*)"\]/.exec(rest) ?? /^\[(\*)\]/.exec(rest) ??
      (out.length ? /^\.([^.[\]]+)/ : /^([^.[\]]+)/).exec(rest);
    if (!m) throw new Error(`invalid property path ${JSON.stringify(text)}`);
    out.push(/^\[\d+\]/.test(m[0]) ? Number(m[1]) : m[1].replace(/\\(.)/g, "$1"));
    rest = rest.slice(m[0].length);
  }
  if (!out.length) throw new Error("empty property path");
  return out;
}

/** PropertyPath.Contains: `path` is a prefix pattern of `other`. */
export function pathContains(path: Path, other: Path): boolean {
  if (other.length < path.length) return false;
  return path.every((seg, i) => seg === "*" || seg === other[i]);
}

const isObject = (v: unknown): v is Props => !!v && typeof v === "object" && !Array.isArray(v) && !pulumi.isUnknown(v) && !isSecret(v);
const UNKNOWN = "\u0000unknown";

/** A stable text form; secret values stay distinguishable from plain ones unless `unwrap`. */
export function canonical(value: unknown, unwrap = false): string {
  if (pulumi.isUnknown(value)) return JSON.stringify(UNKNOWN);
  if (isSecret(value)) return unwrap ? canonical(unwrapSecret(value), unwrap) : `{"$secret":${canonical(unwrapSecret(value))}}`;
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, unwrap)).join(",")}]`;
  if (value && typeof value === "object") {
    const o = value as Props;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k], unwrap)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The paths at which two values differ (an added or removed element is its own path). */
export function diffPaths(a: unknown, b: unknown, unwrap = false, at: Path = []): Path[] {
  if (!unwrap && isSecret(a) !== isSecret(b)) return [at];
  const x = unwrapSecret(a);
  const y = unwrapSecret(b);
  if (Array.isArray(x) && Array.isArray(y)) {
    const out: Path[] = [];
    for (let i = 0; i < Math.max(x.length, y.length); i++) {
      out.push(...(i < x.length && i < y.length ? diffPaths(x[i], y[i], unwrap, [...at, i]) : [[...at, i]]));
    }
    return out;
  }
  if (isObject(x) && isObject(y)) {
    const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
    return keys.flatMap((k) => (x[k] === undefined || y[k] === undefined ? (x[k] === y[k] ? [] : [[...at, k]]) : diffPaths(x[k], y[k], unwrap, [...at, k])));
  }
  return canonical(x, unwrap) === canonical(y, unwrap) ? [] : [at];
}

/**
 * Old inputs against new ones. `forceReplace`: top-level keys the provider's schema marks
 * replaceOnChanges (@pulumi/command: `triggers`). Keys starting with "__" and `version` are not
 * compared (infer does the same).
 */
export function inputDiff(olds: Props, news: Props, forceReplace: string[] = [], unwrap = false): DiffResult {
  const keep = (p: Props) => Object.fromEntries(Object.entries(p).filter(([k]) => !k.startsWith("__") && k !== "version"));
  const paths = diffPaths(keep(olds), keep(news), unwrap);
  const changedKeys = [...new Set(paths.map((p) => String(p[0])))];
  const replaceKeys = [...new Set(paths.filter((p) => p.length === 1 && forceReplace.includes(String(p[0]))).map((p) => String(p[0])))];
  return { changes: paths.length > 0, changedKeys, paths, replaceKeys };
}

/** applyReplaceOnChanges: does a listed path (or "*") cover a changed key or a changed path? */
export function replaceOnChangesHit(diff: DiffResult, replaceOnChanges: string[]): string[] {
  const hits: string[] = [];
  for (const text of replaceOnChanges) {
    const p = parsePath(text);
    if (diff.changedKeys.some((k) => pathContains(p, [k])) || diff.paths.some((q) => pathContains(p, q))) hits.push(text);
  }
  return hits;
}

/** A deep copy of inputs, so that resetting ignored paths never touches the program's values. */
function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone);
  if (value && typeof value === "object" && !pulumi.isUnknown(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)]));
  return value;
}

/**
 * processIgnoreChanges: each listed path takes its old value (or is removed if it had none).
 * Returns the new inputs and the paths that could not be reset (the engine only logs those).
 */
export function applyIgnoreChanges(news: Props, olds: Props, ignoreChanges: string[]): { inputs: Props; invalid: string[] } {
  const inputs = clone(news) as Props;
  const invalid: string[] = [];
  for (const text of ignoreChanges) {
    const p = parsePath(text);
    if (p.includes("*")) throw new Error(`ignoreChanges path "${text}" uses a wildcard, which the engine double does not model`);
    if (!reset(p, olds, inputs, false, false)) invalid.push(text);
  }
  return { inputs, invalid };
}

/** PropertyPath.Reset: sets the value at `p` in `neu` to the value in `old` (mutates `neu`). */
function reset(p: Path, old: unknown, neu: unknown, oldSecret: boolean, newSecret: boolean): boolean {
  const o = unwrapSecret(old);
  const n = unwrapSecret(neu);
  oldSecret = oldSecret || isSecret(old);
  newSecret = newSecret || isSecret(neu);
  const [key, ...rest] = p;
  const take = (v: unknown) => (oldSecret && !newSecret ? makeSecret(v) : v);
  if (typeof key === "number") {
    if (!Array.isArray(o) || !Array.isArray(n)) return !Array.isArray(o) && !Array.isArray(n);
    if (key >= o.length && key >= n.length) return !rest.length;
    if (key >= o.length || key >= n.length) return false;
    if (!rest.length) n[key] = take(o[key]);
    return rest.length ? reset(rest, o[key], n[key], oldSecret, newSecret) : true;
  }
  if (!isObject(n)) return !isObject(o);
  const oldHas = isObject(o) && o[key] !== undefined;
  if (!rest.length) {
    if (oldHas) n[key] = take(o[key]);
    else delete n[key];
    return true;
  }
  if (!oldHas || n[key] === undefined) return !oldHas && n[key] === undefined;
  return reset(rest, o[key], n[key], oldSecret, newSecret);
}
