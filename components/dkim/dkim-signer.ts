// DKIM signing of submitted mail (docs/dkim.md): Debian's Rspamd as a milter on 587/465, a key
// per selector made with node-forge (a secret in Pulumi state) and installed for Rspamd alone,
// and the public keys for the DNS records. Rspamd's settings live in local.d files, the shape
// its inbound spam filtering will extend.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { DkimSettings } from "../config/dkim";
import { installFiles } from "../host/install-files";
import { HostAccess } from "../host/remote";
import { DkimKeyResource } from "./dkim-key.provider";
import { DKIM_KEY_DIR, dkimKeyPath, rspamdFiles } from "./render";

export interface DkimSignerArgs {
  host: HostAccess;
  stack: string;
  /** Hosted domains: mail From: them is signed, nothing else. */
  domains: string[];
  dkim: DkimSettings;
  /** The host's packages (rspamd, redis-server). */
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class DkimSigner extends pulumi.ComponentResource {
  /** The public keys to publish: the signing selector's and, during a rotation, the previous one's. */
  public readonly publicKeys: Array<{ selector: string; publicKeyBase64: pulumi.Output<string> }>;
  /** Rspamd runs the current settings and key; Postfix's milter setting waits for it. */
  public readonly ready: command.remote.Command;

  constructor(name: string, args: DkimSignerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mailfleet:dkim:DkimSigner", name, {}, opts);
    const { dkim } = args;
    const selectors = [dkim.selector, ...(dkim.previousSelector ? [dkim.previousSelector] : [])];
    // The resource name carries the selector: a rotation creates a key and keeps the previous one.
    const keys = selectors.map((selector) => ({ selector, key: new DkimKeyResource(`${name}-key-${selector}`, { selector, keyBits: dkim.keyBits }, { parent: this }) }));
    this.publicKeys = keys.map(({ selector, key }) => ({ selector, publicKeyBase64: key.publicKeyBase64 }));
    // One bundle for the settings and the signing key, so a new selector and its key go live in
    // one swap and Rspamd never runs settings that name a key file not there (it would then pass
    // mail unsigned). The key makes the bundle secret: preview shows the step, not its lines.
    // The previous selector's key is published, never used, so it stays off the host.
    this.ready = installFiles(`${name}-rspamd`, args.host, "rspamd", [
      ...rspamdFiles({ stack: args.stack, domains: args.domains, selector: dkim.selector }),
      { path: dkimKeyPath(dkim.selector), owner: "root", group: "_rspamd", mode: "0640", kind: "plain", content: pulumi.secret(keys[0].key.privateKeyPem), secret: true },
    ], { parent: this, dependsOn: args.dependsOn }, [
      // Signing turned off: Postfix has left the milter by then (deletes run after updates); the
      // key and the settings go, and Rspamd drops them.
      `rm -rf ${DKIM_KEY_DIR}`,
      `rm -f ${rspamdFiles({ stack: "", domains: [], selector: "x" }).map((f) => f.path).join(" ")}`,
      "systemctl try-reload-or-restart rspamd",
    ]);
    this.registerOutputs({});
  }
}
