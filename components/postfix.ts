// Postfix: MX on 25, submission on 587 (STARTTLS) and 465 (implicit TLS) with Dovecot SASL,
// virtual domains delivered over LMTP, and relay restrictions that end in reject_unauth_destination;
// optionally a smarthost with SASL credentials and a daily queue cleanup timer.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { installFiles } from "./host-files";
import { postfixFiles, PostfixSettings, smarthostCredentials } from "./postfix.render";
import { managedHeader, renderTemplate } from "./render";
import { HostAccess, heredocInstaller, remoteStep } from "./remote";

export interface PostfixArgs extends Omit<PostfixSettings, "relayHost"> {
  host: HostAccess;
  /**
   * Smarthost for all outbound mail (`[host]:port`), with SASL credentials when `username` is set;
   * the password must be a secret.
   * @see https://www.postfix.org/SASL_README.html#client_sasl
   */
  relayHost?: { nexthop: string; username: string; password: pulumi.Input<string> };
  /** Run mailfleet-queue-cleanup daily from a systemd timer. @default false */
  queueCleanupTimer?: boolean;
  /** Dovecot's sockets must exist before Postfix points at them. */
  dependsOn?: pulumi.Resource[];
}

/** The pure render settings of a Postfix component's args (what the security checks read too). */
export function renderSettings(args: Omit<PostfixArgs, "host" | "dependsOn">): PostfixSettings {
  const { relayHost, queueCleanupTimer: _timer, ...settings } = args;
  return { ...settings, relayHost: relayHost ? { nexthop: relayHost.nexthop, authenticated: relayHost.username !== "" } : undefined };
}

export class Postfix extends pulumi.ComponentResource {
  public readonly configured: command.remote.Command;

  constructor(name: string, args: PostfixArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mailfleet:mail:Postfix", name, {}, opts);
    const { host, dependsOn, ...rest } = args;
    const settings = renderSettings(rest);
    const credentials = args.relayHost && settings.relayHost?.authenticated ? this.smarthostCredentials(name, args, args.relayHost, dependsOn) : undefined;
    this.configured = installFiles(`${name}-config`, host, "postfix", postfixFiles(settings), {
      parent: this,
      dependsOn: credentials ? [...(dependsOn ?? []), credentials] : dependsOn,
    });
    if (args.queueCleanupTimer) this.cleanupTimer(name, args);
    this.registerOutputs({});
  }

  /**
   * sasl_passwd on its own (root:root 0600), so the secret never makes main.cf's bundle secret
   * and its diff stays readable. Installed before main.cf names it; removed when the smarthost goes.
   */
  private smarthostCredentials(name: string, args: PostfixArgs, relay: NonNullable<PostfixArgs["relayHost"]>, after?: pulumi.Resource[]) {
    const file = pulumi.secret(relay.password).apply((pw) => smarthostCredentials(args.stack, relay.nexthop, relay.username, pw));
    return installFiles(`${name}-smarthost-credentials`, args.host, "postfix", [{
      path: "/etc/postfix/sasl_passwd",
      owner: "root",
      group: "root",
      mode: "0600",
      kind: "postmap",
      content: pulumi.secret(file.content),
    }], { parent: this, dependsOn: after }, "rm -f /etc/postfix/sasl_passwd /etc/postfix/sasl_passwd.db");
  }

  private cleanupTimer(name: string, args: PostfixArgs): command.remote.Command {
    const units = ["mailfleet-queue-cleanup.service", "mailfleet-queue-cleanup.timer"].map((unit) => ({
      path: `/etc/systemd/system/${unit}`,
      mode: "0644",
      content: renderTemplate(`etc/systemd/system/${unit}`, { header: managedHeader(args.stack) }),
    }));
    return remoteStep(`${name}-queue-cleanup-timer`, {
      host: args.host,
      create: "bash -s",
      stdin: `${heredocInstaller(units)}systemctl daemon-reload\nsystemctl enable --now mailfleet-queue-cleanup.timer\n`,
      delete: "bash -c 'systemctl disable --now mailfleet-queue-cleanup.timer; rm -f /etc/systemd/system/mailfleet-queue-cleanup.service /etc/systemd/system/mailfleet-queue-cleanup.timer; systemctl daemon-reload'",
    }, { parent: this, dependsOn: [this.configured] });
  }
}
