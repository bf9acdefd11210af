// Small Pulumi programs for the engine double's own tests, described as data so that the same
// program can run in the test process or in a child process (a failing resource must not run in
// the test process: it surfaces as an unhandled rejection). Resources are declared in order:
//   { kind: "local" | "remote", name, args }           command:local:Command / command:remote:Command
//   { kind: "component", name, type? }                  a ComponentResource (default engine:test:Group)
//   { kind: "marker", name, args: { path, content, log?, dbr? } }   a dynamic resource writing a file
// and each may have `parent` and `dependsOn` (names) and `opts` (resource options). In args, a
// value {"$secret": v} is pulumi.secret(v) and {"$ref": "name.output"} another resource's output.
// In opts.aliases, {"parent": "name"} names a resource of the program, {"parent": null} means no
// parent; `transforms: true` adds a no-op transform.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";

export interface FixtureResource {
  kind: "local" | "remote" | "component" | "marker";
  name: string;
  type?: string;
  parent?: string;
  dependsOn?: string[];
  args?: Record<string, unknown>;
  opts?: Record<string, unknown>;
}

class Group extends pulumi.ComponentResource {
  constructor(type: string, name: string, opts?: pulumi.ComponentResourceOptions) {
    super(type, name, {}, opts);
    this.registerOutputs({});
  }
}

/** Writes `content` to `path`; appends "create|update|delete PATH" to `log`. */
const markerProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    const fs = require("fs") as typeof import("fs");
    fs.writeFileSync(inputs.path, inputs.content);
    if (inputs.log) fs.appendFileSync(inputs.log, `create ${inputs.path}\n`);
    return { id: inputs.path, outs: { ...inputs, written: true } };
  },
  async diff(_id, olds, news) {
    const keys = ["path", "content", "log", "dbr"];
    const changes = keys.some((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    return { changes, replaces: olds.path !== news.path ? ["path"] : [], deleteBeforeReplace: !!news.dbr };
  },
  async update(_id, _olds, news) {
    const fs = require("fs") as typeof import("fs");
    fs.writeFileSync(news.path, news.content);
    if (news.log) fs.appendFileSync(news.log, `update ${news.path}\n`);
    return { outs: { ...news, written: true } };
  },
  async delete(_id, props) {
    const fs = require("fs") as typeof import("fs");
    fs.rmSync(props.path, { force: true });
    if (props.log) fs.appendFileSync(props.log, `delete ${props.path}\n`);
  },
};

class Marker extends pulumi.dynamic.Resource {
  constructor(name: string, args: Record<string, unknown>, opts?: pulumi.CustomResourceOptions) {
    super(markerProvider, name, { ...args, written: undefined }, opts, "engine", "Marker");
  }
}

function resolve(value: unknown, made: Map<string, pulumi.Resource>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, made));
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if ("$secret" in o) return pulumi.secret(resolve(o.$secret, made));
    if ("$ref" in o) {
      const [name, prop] = String(o.$ref).split(".");
      return (made.get(name) as unknown as Record<string, unknown>)[prop];
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v, made)]));
  }
  return value;
}

function options(r: FixtureResource, made: Map<string, pulumi.Resource>): pulumi.CustomResourceOptions {
  const { aliases, transforms, ...rest } = (r.opts ?? {}) as { aliases?: unknown[]; transforms?: boolean };
  const opts: Record<string, unknown> = { ...rest };
  if (r.parent) opts.parent = made.get(r.parent);
  if (r.dependsOn) opts.dependsOn = r.dependsOn.map((n) => made.get(n));
  if (typeof opts.deletedWith === "string") opts.deletedWith = made.get(opts.deletedWith);
  if (Array.isArray(opts.replaceWith)) opts.replaceWith = opts.replaceWith.map((name) => made.get(String(name)));
  if (transforms) opts.transforms = [(a: pulumi.ResourceTransformArgs) => ({ props: a.props, opts: a.opts })];
  if (aliases) {
    opts.aliases = aliases.map((a) => {
      if (typeof a === "string") return a;
      const { parent, ...spec } = a as { parent?: string | null };
      if (parent === undefined) return spec;
      return { ...spec, parent: parent === null ? undefined : made.get(parent) ?? parent };
    });
  }
  return opts as pulumi.CustomResourceOptions;
}

/** Declares the resources; returns the stack's exports (none). */
export function buildProgram(spec: FixtureResource[]): Record<string, unknown> {
  const made = new Map<string, pulumi.Resource>();
  for (const r of spec) {
    const args = resolve(r.args ?? {}, made) as Record<string, unknown>;
    const opts = options(r, made);
    let res: pulumi.Resource;
    if (r.kind === "component") res = new Group(r.type ?? "engine:test:Group", r.name, opts);
    else if (r.kind === "local") res = new command.local.Command(r.name, args as command.local.CommandArgs, opts);
    else if (r.kind === "remote") res = new command.remote.Command(r.name, args as unknown as command.remote.CommandArgs, opts);
    else res = new Marker(r.name, args, opts);
    made.set(r.name, res);
  }
  return {};
}
