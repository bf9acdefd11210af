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
  /** The host's packages (rspamd) and Postfix's config, whose submission services name the milter. */
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

export class DkimSigner extends pulumi.ComponentResource {
  /** The public keys to publish: the signing selector's and, during a rotation, the previous one's. */
  public readonly publicKeys: Array<{ selector: string; publicKeyBase64: pulumi.Output<string> }>;
  private readonly keys: Array<{ selector: string; key: DkimKeyResource }>;

  constructor(private readonly name: string, private readonly args: DkimSignerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mailfleet:dkim:DkimSigner", name, {}, opts);
    const { dkim } = args;
    const selectors = [dkim.selector, ...(dkim.previousSelector ? [dkim.previousSelector] : [])];
    // The resource name carries the selector: a rotation creates a key and keeps the previous one.
    // A changed dkimKeyBits applies to the next new selector only: replacing a published key under
    // its selector would fail every message signed with it that is still in transit.
    this.keys = selectors.map((selector) => ({
      selector,
      key: new DkimKeyResource(`${name}-key-${selector}`, { selector, keyBits: dkim.keyBits }, { parent: this, ignoreChanges: ["keyBits"] }),
    }));
    this.publicKeys = this.keys.map(({ selector, key }) => ({ selector, publicKeyBase64: key.publicKeyBase64 }));
    this.registerOutputs({});
  }

  /**
   * The step that makes Rspamd sign with the selector's key. `after`: the publication of its DNS
   * record, so no message is signed with a key receivers cannot find yet.
   */
  install(after: pulumi.Input<pulumi.Resource>[]): command.remote.Command {
    const { args } = this;
    // One bundle for the settings and the keys, so a new selector and its key go live in one swap
    // and Rspamd never runs settings that name a key file not there (it would then pass mail
    // unsigned). The keys make the bundle secret: preview shows the step, not its lines. During a
    // rotation the previous key stays too, for Rspamd's old workers that finish their messages
    // after the reload; it leaves the host with dkimPreviousSelector.
    return installFiles(`${this.name}-rspamd`, args.host, "rspamd", [
      ...rspamdFiles({ stack: args.stack, domains: args.domains, selector: args.dkim.selector }),
      ...this.keys.map(({ selector, key }) => ({
        path: dkimKeyPath(selector), owner: "root", group: "_rspamd", mode: "0640", kind: "plain" as const, content: pulumi.secret(key.privateKeyPem), secret: true,
      })),
    ], { parent: this, dependsOn: [...args.dependsOn, ...after] }, [
      // Signing turned off: Postfix has left the milter by then (deletes run after updates); the
      // keys and the settings go, and Rspamd drops them.
      `rm -rf ${DKIM_KEY_DIR}`,
      `rm -f ${rspamdFiles({ stack: "", domains: [], selector: "x" }).map((f) => f.path).join(" ")}`,
      "systemctl try-reload-or-restart rspamd",
    ]);
  }
}
