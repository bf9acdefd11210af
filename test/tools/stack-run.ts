// Runs the engine double in a child process (one stack run per process, as with the real CLI;
// a failing resource surfaces as an unhandled rejection, which must not kill a test process).
import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import type { RunSummary } from "./engine";
import { TestHost } from "./testhost";

export const ROOT = path.join(__dirname, "..", "..");

export interface Override {
  value: string;
  secret?: boolean;
}

export interface StackRun {
  code: number;
  summary: RunSummary;
  log: string;
}

/** `up`, `preview` or `destroy` of a stack through the engine double (`program`: a test program instead of index.ts). */
export function runStack(verb: "up" | "preview" | "destroy", stack: string, overrides: Record<string, Override>, statePath: string, program?: string): StackRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailfleet-run-"));
  try {
    const overridesFile = path.join(dir, "overrides.json");
    fs.writeFileSync(overridesFile, JSON.stringify(overrides), { mode: 0o600 });
    const resultFile = path.join(dir, "result.json");
    const r = spawnSync(process.execPath, [
      "--import", "tsx", path.join(ROOT, "test", "tools", "engine-cli.ts"), verb,
      "--stack", stack, "--project", ROOT, "--overrides", overridesFile, "--state", statePath, "--result", resultFile,
      ...(program ? ["--program", program] : []),
    ], { encoding: "utf8", cwd: ROOT, timeout: 30 * 60 * 1000 });
    const summary: RunSummary = fs.existsSync(resultFile)
      ? JSON.parse(fs.readFileSync(resultFile, "utf8"))
      : { ok: false, errors: [r.stderr], secretLeaks: [], loggedSecrets: [], operations: [], sshSessions: 0, outputs: {} };
    return { code: r.status ?? 1, summary, log: r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The stack file's config, as written (no defaults applied). */
export function stackConfig(stack: string): Record<string, unknown> {
  const doc = YAML.parse(fs.readFileSync(path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`), "utf8"));
  return Object.fromEntries(Object.entries<unknown>(doc.config ?? {}).map(([k, v]) => [k.replace(/^mailfleet:/, ""), v]));
}

/** A random password per mailbox of the stack: 24 characters of base64url. */
export function generatePasswords(stack: string): Record<string, string> {
  const mailboxes = (stackConfig(stack).mailboxes as string[]) ?? [];
  return Object.fromEntries(mailboxes.map((m) => [m, randomBytes(18).toString("base64url")]));
}

/** What a booted test host and the generated passwords replace in the stack file. */
export function hostOverrides(host: TestHost, passwords: Record<string, string>): Record<string, Override> {
  return {
    "mailfleet:hostAddress": { value: host.ipv4 },
    "mailfleet:sshPort": { value: String(host.sshPort) },
    "mailfleet:sshUser": { value: host.sshUser },
    "mailfleet:sshPrivateKey": { value: fs.readFileSync(host.sshKey, "utf8"), secret: true },
    "mailfleet:sshHostKey": { value: host.hostKey },
    "mailfleet:mailboxPasswords": { value: YAML.stringify(passwords), secret: true },
  };
}
