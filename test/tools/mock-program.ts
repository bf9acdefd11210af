// Runs the real program (index.ts) under pulumi.runtime.setMocks in this process and records
// every registration with its parent, dependencies and raw inputs (secrets still wrapped).
// One program run per process: Node's test runner gives each test file its own.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

export const MOCK_TLS_KEY = "-----BEGIN RSA PRIVATE KEY-----\nmock-tls-key-material\n-----END RSA PRIVATE KEY-----\n";

/** A real (throwaway) certificate, so fingerprints can be computed from what the mocks return. */
export const MOCK_CERT_PEM = ((): string => {
  const forge = require("node-forge") as typeof import("node-forge");
  const keys = forge.pki.rsa.generateKeyPair({ bits: 1024, e: 0x10001 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = "01";
  cert.validity.notBefore = new Date("2026-01-01T00:00:00Z");
  cert.validity.notAfter = new Date("2028-01-01T00:00:00Z");
  cert.setSubject([{ name: "commonName", value: "mock" }]);
  cert.setIssuer([{ name: "commonName", value: "mock" }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
})();

/** What mailfleet-acme issue prints on a host (mock of the command's stdout). */
export const MOCK_ACME_STATUS = `mailfleet-acme: installed\nnotAfter=2027-02-23T00:00:00Z\nsha256=${"ab".repeat(32)}\nspkiSha256=${"cd".repeat(32)}\n${MOCK_CERT_PEM}`;

export interface Registered {
  type: string;
  name: string;
  /** Name of the parent resource ("-" for the stack). */
  parent: string;
  /** Names of the resources it depends on. */
  dependencies: string[];
  inputs: Record<string, unknown>;
  /** Resource options from the registration request. */
  options: { additionalSecretOutputs: string[]; deleteBeforeReplace: boolean; ignoreChanges: string[] };
}

export async function runProgramUnderMocks(config: Record<string, string>, secretKeys: string[]): Promise<Registered[]> {
  const raw: Array<Omit<Registered, "parent" | "dependencies"> & { parentUrn: string; dependencyUrns: string[] }> = [];
  const byUrn = new Map<string, string>();
  await pulumi.runtime.setMocks({
    newResource: async (args) => {
      const state: Record<string, unknown> = { ...args.inputs };
      if (args.type === "pulumi-nodejs:dynamic/mailfleet:DkimKey") {
        Object.assign(state, { privateKeyPem: MOCK_TLS_KEY, publicKeyBase64: `MOCKDKIM${String(args.inputs.selector).toUpperCase()}` });
      } else if (args.type.startsWith("pulumi-nodejs:dynamic")) {
        Object.assign(state, { certPem: MOCK_CERT_PEM, privateKeyPem: MOCK_TLS_KEY, notAfter: "2028-01-01T00:00:00.000Z" });
      }
      if (args.type === "command:remote:Command" && String(args.inputs.create).includes("mailfleet-acme issue")) state.stdout = MOCK_ACME_STATUS;
      if (args.type === "command:remote:Command" && String(args.inputs.stdin ?? "").includes("host-size: cores=")) state.stdout = "installed: (mock)\nhost-size: cores=2 memMiB=2048\n";
      return { id: `${args.name}-id`, state };
    },
    call: (args) => {
      throw new Error(`unexpected call ${args.token}`);
    },
  }, "mailfleet", "mock-test", false);
  // The mock monitor's request carries parent and dependencies (internal API, measured on 3.270).
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: any, cb: any): void };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, cb: any) => {
    original(req, (err: unknown, res: any) => {
      if (!err) {
        byUrn.set(res.getUrn(), req.getName());
        raw.push({
          type: req.getType(),
          name: req.getName(),
          parentUrn: req.getParent(),
          dependencyUrns: req.getDependenciesList(),
          inputs: pulumi.runtime.deserializeProperties(req.getObject()),
          options: { additionalSecretOutputs: req.getAdditionalsecretoutputsList(), deleteBeforeReplace: req.getDeletebeforereplace(), ignoreChanges: req.getIgnorechangesList() },
        });
      }
      cb(err, res);
    });
  };
  pulumi.runtime.setAllConfig(config, secretKeys);
  const program = path.join(__dirname, "..", "..", "index.ts");
  // A second run in the same process must run the program again, not return the cached module.
  delete require.cache[require.resolve(program)];
  await pulumi.runtime.runInPulumiStack(async () => require(program));
  await pulumi.runtime.disconnect();
  await new Promise((r) => setTimeout(r, 100));
  return raw.map(({ parentUrn, dependencyUrns, ...r }) => ({
    ...r,
    parent: byUrn.get(parentUrn) ?? "-",
    dependencies: dependencyUrns.map((u) => byUrn.get(u) ?? u).sort(),
  }));
}

/** Calls `visit` for every string inside a value, saying whether it sits inside a secret. */
export function walkStrings(value: unknown, visit: (s: string, secret: boolean) => void, secret = false): void {
  if (pulumi.runtime.isRpcSecret(value)) return walkStrings(pulumi.runtime.unwrapRpcSecret(value), visit, true);
  if (typeof value === "string") return visit(value, secret);
  if (Array.isArray(value)) return value.forEach((v) => walkStrings(v, visit, secret));
  if (value && typeof value === "object") Object.values(value).forEach((v) => walkStrings(v, visit, secret));
}
