// Dynamic provider: a self-signed certificate made with node-forge when the resource is created,
// kept in Pulumi state (the key as a secret output), and replaced only when its names, key size
// or validity change, or when it is within `renewBeforeDays` of expiry.
// The methods are serialized into the state by Pulumi, so they require their modules inside.
import * as pulumi from "@pulumi/pulumi";

export interface SelfSignedInputs {
  /** Bumped when the certificate's shape changes, so existing certificates are replaced. */
  profile: number;
  commonName: string;
  /** DNS subjectAltNames; the common name is always included. */
  altNames: string[];
  keyBits: number;
  validityDays: number;
  renewBeforeDays: number;
}

export interface SelfSignedOutputs extends SelfSignedInputs {
  certPem: string;
  privateKeyPem: string;
  /** ISO 8601 */
  notAfter: string;
}

const REPLACE_ON = ["profile", "commonName", "altNames", "keyBits", "validityDays"] as const;

/** 2: a leaf (CA:FALSE) that clients pin as their trust anchor, no longer a CA certificate. */
export const CERTIFICATE_PROFILE = 2;

export const selfSignedProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: SelfSignedInputs): Promise<pulumi.dynamic.CreateResult> {
    const forge = require("node-forge") as typeof import("node-forge");
    const crypto = require("crypto") as typeof import("crypto");
    const keys = forge.pki.rsa.generateKeyPair({ bits: inputs.keyBits, e: 0x10001 });
    const cert = forge.pki.createCertificate();
    cert.publicKey = keys.publicKey;
    // Positive 128-bit serial (RFC 5280 4.1.2.2).
    cert.serialNumber = `01${crypto.randomBytes(15).toString("hex")}`;
    const now = new Date();
    cert.validity.notBefore = new Date(now.getTime() - 60 * 60 * 1000);
    cert.validity.notAfter = new Date(now.getTime() + inputs.validityDays * 24 * 60 * 60 * 1000);
    const subject = [{ name: "commonName", value: inputs.commonName }];
    cert.setSubject(subject);
    cert.setIssuer(subject);
    const names = [inputs.commonName, ...inputs.altNames.filter((n) => n !== inputs.commonName)];
    cert.setExtensions([
      // A leaf, not a CA: clients that pin it as their trust anchor must not thereby trust
      // anything else it could sign, and Mozilla's mail clients refuse a CA used as a server.
      { name: "basicConstraints", cA: false, critical: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: names.map((value) => ({ type: 2, value })) },
      { name: "subjectKeyIdentifier" },
    ]);
    cert.sign(keys.privateKey, forge.md.sha256.create());
    const outs: SelfSignedOutputs = {
      ...inputs,
      certPem: forge.pki.certificateToPem(cert),
      privateKeyPem: forge.pki.privateKeyToPem(keys.privateKey),
      notAfter: cert.validity.notAfter.toISOString(),
    };
    return { id: cert.serialNumber, outs };
  },

  async diff(_id: string, olds: SelfSignedOutputs, news: SelfSignedInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces: string[] = REPLACE_ON.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
    const renewAt = Date.parse(olds.notAfter) - news.renewBeforeDays * 24 * 60 * 60 * 1000;
    if (Number.isNaN(renewAt) || Date.now() >= renewAt) replaces.push("notAfter");
    const changes = replaces.length > 0 || olds.renewBeforeDays !== news.renewBeforeDays;
    return { changes, replaces, deleteBeforeReplace: false };
  },

  async update(_id: string, olds: SelfSignedOutputs, news: SelfSignedInputs): Promise<pulumi.dynamic.UpdateResult> {
    // Only renewBeforeDays can change without a replacement.
    return { outs: { ...olds, renewBeforeDays: news.renewBeforeDays } };
  },
};

export interface SelfSignedResourceArgs {
  profile: pulumi.Input<number>;
  commonName: pulumi.Input<string>;
  altNames: pulumi.Input<pulumi.Input<string>[]>;
  keyBits: pulumi.Input<number>;
  validityDays: pulumi.Input<number>;
  renewBeforeDays: pulumi.Input<number>;
}

export class SelfSignedResource extends pulumi.dynamic.Resource {
  // `declare`: with ES2022 class fields an initialiser would overwrite what super() set.
  declare public readonly certPem: pulumi.Output<string>;
  declare public readonly privateKeyPem: pulumi.Output<string>;
  declare public readonly notAfter: pulumi.Output<string>;

  constructor(name: string, args: SelfSignedResourceArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      selfSignedProvider,
      name,
      { ...args, certPem: undefined, privateKeyPem: undefined, notAfter: undefined },
      { ...opts, additionalSecretOutputs: ["privateKeyPem"] },
      "mailfleet",
      "SelfSignedCertificate",
    );
  }
}
