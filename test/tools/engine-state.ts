// The engine double's state file, resource URNs and secret values.
//
// In memory every property value is what the SDK hands over: plain JSON, with secret values as
// RPC secrets ({SIG_KEY: SECRET_SIG, value}). On disk (state version 2) a secret value is what
// Pulumi's own checkpoint holds, {SIG_KEY: SECRET_SIG, ciphertext}, encrypted with AES-256-GCM
// under the key file next to the state; everything else is stored in plain text, as the real
// engine stores it.
import { createCipheriv, createDecipheriv, randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const STATE_VERSION = 2;
export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

export type Props = Record<string, unknown>;

/** customTimeouts in seconds (0 or absent: no limit). */
export interface Timeouts {
  create?: number;
  update?: number;
  delete?: number;
}

/** One resource as the real checkpoint records it (the fields the double uses). */
export interface ResourceState {
  urn: string;
  custom: boolean;
  type: string;
  id?: string;
  parent?: string;
  dependencies: string[];
  propertyDependencies: Record<string, string[]>;
  inputs: Props;
  outputs: Props;
  additionalSecretOutputs?: string[];
  ignoreChanges?: string[];
  replaceOnChanges?: string[];
  customTimeouts?: Timeouts;
  /** The old copy of a replaced resource, deleted at the end of an update (create-before-delete). */
  delete?: boolean;
  /** Deleted ahead of its replacement (delete-before-replace); the new copy does not exist yet. */
  pendingReplacement?: boolean;
}

// --- secrets, in the SDK's RPC form -------------------------------------------------------------

export const isSecret = (v: unknown): boolean => pulumi.runtime.isRpcSecret(v);
export const makeSecret = (v: unknown): unknown => (isSecret(v) ? v : { [SIG_KEY]: SECRET_SIG, value: v });
export const unwrapSecret = (v: unknown): unknown => (isSecret(v) ? pulumi.runtime.unwrapRpcSecret(v) : v);

/** The value with every secret unwrapped, however deep. */
export function plain(value: unknown): unknown {
  if (isSecret(value)) return plain(unwrapSecret(value));
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === "object" && !pulumi.isUnknown(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

export function containsSecrets(value: unknown): boolean {
  if (isSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecrets);
  if (value && typeof value === "object") return Object.values(value).some(containsSecrets);
  return false;
}

export function plainProps(props: Props): Props {
  return plain(props) as Props;
}

// --- URNs ----------------------------------------------------------------------------------------

/** The type part of a URN, with its parent type chain: "a:b:Parent$c:d:Child". */
export const qualifiedType = (urn: string): string => urn.split("::")[2] ?? "";
export const urnName = (urn: string): string => urn.split("::").slice(3).join("::");
export const urnType = (urn: string): string => qualifiedType(urn).split("$").pop() ?? "";

/** urn:pulumi:STACK::PROJECT::PARENT-TYPES$TYPE::NAME; the root stack is left out of the chain. */
export function newUrn(stack: string, project: string, parentType: string, type: string, name: string): string {
  const chain = parentType && parentType !== ROOT_STACK_TYPE ? `${parentType}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${chain}::${name}`;
}

export function urnUnder(parent: string | undefined, type: string, name: string, project: string, stack: string): string {
  return newUrn(stack, project, parent ? qualifiedType(parent) : "", type, name);
}

// --- the state file -------------------------------------------------------------------------------

interface StateFile {
  version: number;
  resources: ResourceState[];
}

/** Reads and writes one state file; secret values are encrypted with the key file beside it. */
export class StateStore {
  private readonly key: Buffer;

  constructor(readonly statePath: string) {
    const keyPath = `${statePath}.key`;
    fs.mkdirSync(path.dirname(statePath), { recursive: true });
    if (!fs.existsSync(keyPath)) fs.writeFileSync(keyPath, randomBytes(32), { mode: 0o600 });
    this.key = fs.readFileSync(keyPath);
  }

  load(): ResourceState[] {
    if (!fs.existsSync(this.statePath)) return [];
    const file = JSON.parse(fs.readFileSync(this.statePath, "utf8")) as StateFile;
    if (file.version !== STATE_VERSION) {
      throw new Error(
        `${this.statePath} is a version ${file.version} state file of an older engine double; version ${STATE_VERSION} ` +
          "keys resources by their real URN and keeps each resource's connection, which an older file lacks. " +
          "Destroy what it describes by hand (or with the older double) and delete the file.",
      );
    }
    return file.resources.map((r) => ({ ...r, inputs: this.open(r.inputs) as Props, outputs: this.open(r.outputs) as Props }));
  }

  save(resources: ResourceState[]): void {
    const sealed = resources.map((r) => ({ ...r, inputs: this.seal(r.inputs) as Props, outputs: this.seal(r.outputs) as Props }));
    const file: StateFile = { version: STATE_VERSION, resources: sealed };
    // Write, then rename: a run killed mid-write leaves the previous checkpoint, never half a file.
    const tmp = `${this.statePath}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(file, null, 1)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, this.statePath);
  }

  /** RPC secrets become {SIG_KEY, ciphertext}: what Pulumi writes into a checkpoint. */
  private seal(value: unknown): unknown {
    if (isSecret(value)) return { [SIG_KEY]: SECRET_SIG, ciphertext: this.encrypt(plain(value)) };
    if (Array.isArray(value)) return value.map((v) => this.seal(v));
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.seal(v)]));
    return value;
  }

  private open(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.open(v));
    if (value && typeof value === "object") {
      const o = value as Props;
      if (o[SIG_KEY] === SECRET_SIG && typeof o.ciphertext === "string") return makeSecret(this.decrypt(o.ciphertext));
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, this.open(v)]));
    }
    return value;
  }

  private encrypt(value: unknown): string {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([c.update(JSON.stringify(value ?? null), "utf8"), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]).toString("base64");
  }

  private decrypt(blob: string): unknown {
    const raw = Buffer.from(blob, "base64");
    const d = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return JSON.parse(Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString("utf8"));
  }
}
