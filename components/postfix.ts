// Postfix: MX on 25, submission on 587 (STARTTLS) and 465 (implicit TLS) with Dovecot SASL,
// virtual domains delivered over LMTP, and relay restrictions that end in reject_unauth_destination.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { installFiles } from "./host-files";
import { postfixFiles, PostfixSettings } from "./postfix.render";
import { HostAccess } from "./remote";

export interface PostfixArgs extends PostfixSettings {
  host: HostAccess;
  /** Dovecot's sockets must exist before Postfix points at them. */
  dependsOn?: pulumi.Resource[];
}

export class Postfix extends pulumi.ComponentResource {
  public readonly configured: command.remote.Command;

  constructor(name: string, args: PostfixArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mailfleet:mail:Postfix", name, {}, opts);
    const { host, dependsOn, ...settings } = args;
    this.configured = installFiles(`${name}-config`, host, "postfix", postfixFiles(settings), { parent: this, dependsOn });
    this.registerOutputs({});
  }
}
