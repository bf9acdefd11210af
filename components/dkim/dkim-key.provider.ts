// Dynamic provider: a DKIM signing key made with node-forge when the resource is created, kept in
// Pulumi state (the private key as a secret output), replaced only when its selector or size
// changes. A new selector is a new key, so rotating is publishing a new selector.
// The methods are serialized into the state by Pulumi, so they require their modules inside.
import * as pulumi from "@pulumi/pulumi";

export interface DkimKeyInputs {
  selector: string;
  keyBits: number;
}

export interface DkimKeyOutputs extends DkimKeyInputs {
  privateKeyPem: string;
  /** The public key as the p= of the DNS record: base64 of the DER SubjectPublicKeyInfo (RFC 6376 3.6.1). */
  publicKeyBase64: string;
}

export const dkimKeyProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: DkimKeyInputs): Promise<pulumi.dynamic.CreateResult> {
    const forge = require("node-forge") as typeof import("node-forge");
    const keys = forge.pki.rsa.generateKeyPair({ bits: inputs.keyBits, e: 0x10001 });
    const spki = forge.asn1.toDer(forge.pki.publicKeyToAsn1(keys.publicKey)).getBytes();
    const outs: DkimKeyOutputs = {
      ...inputs,
      // PKCS#8 ("BEGIN PRIVATE KEY"), which Rspamd reads. Its base64 does not line up with the
      // public key's, so no line of the secret PEM reappears verbatim in publicKeyBase64.
      // forge writes CRLF line ends; the key file gets the usual LF.
      privateKeyPem: forge.pki.privateKeyInfoToPem(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keys.privateKey))).replace(/\r\n/g, "\n"),
      publicKeyBase64: forge.util.encode64(spki),
    };
    return { id: `${inputs.selector}-${forge.md.sha256.create().update(spki).digest().toHex().slice(0, 16)}`, outs };
  },

  async diff(_id: string, olds: DkimKeyOutputs, news: DkimKeyInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces = (["selector", "keyBits"] as const).filter((k) => olds[k] !== news[k]);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },
};

export class DkimKeyResource extends pulumi.dynamic.Resource {
  // `declare`: with ES2022 class fields an initialiser would overwrite what super() set.
  declare public readonly privateKeyPem: pulumi.Output<string>;
  declare public readonly publicKeyBase64: pulumi.Output<string>;

  constructor(name: string, args: { selector: pulumi.Input<string>; keyBits: pulumi.Input<number> }, opts?: pulumi.CustomResourceOptions) {
    super(dkimKeyProvider, name, { ...args, privateKeyPem: undefined, publicKeyBase64: undefined }, { ...opts, additionalSecretOutputs: ["privateKeyPem"] }, "mailfleet", "DkimKey");
  }
}
