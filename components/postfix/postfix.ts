// Postfix: MX on 25, submission on 587 (STARTTLS) and 465 (implicit TLS) with Dovecot SASL,
// virtual domains delivered over LMTP, and relay restrictions that end in reject_unauth_destination;
// optionally a smarthost with SASL credentials and a daily queue cleanup timer.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { ANY_HOST_SIZE, HostSize } from "../host/host-size";
import { hostTimer } from "../host/host-timer";
import { HostFileInput, installFiles } from "../host/install-files";
import { HostAccess } from "../host/remote";
import { postfixCapacity, PostfixCapacity } from "./capacity";
import { postfixFiles, smarthostCredentials } from "./render";
import { PostfixSettings } from "./settings";

/** The files whose text depends on the host's size (docs/postfix.md#capacity); the rest never waits for it. */
const SIZED_FILES = new Set(["/etc/postfix/main.cf", "/etc/postfix/master.cf"]);

/**
 * On `pulumi destroy` the host keeps serving mail with its last configuration, but the smarthost
 * password file goes (its own step, deleted after this one): main.cf stops naming it first, so
 * Postfix never points at a missing map. Outbound mail then waits in the queue at the smarthost
 * (no login), rather than leaving from this host's address. See README "Removing a stack".
 */
const RELEASE_SMARTHOST_LOGIN = [
  "postconf -X smtp_sasl_auth_enable smtp_sasl_password_maps smtp_sasl_security_options smtp_sasl_tls_security_options",
  "{ postfix reload 2>/dev/null || true; }",
];

/** The smarthost with its credentials; the password must be a secret. */
export interface SmarthostArgs {
  /** Postfix next-hop form, `[host]:port`. */
  nexthop: string;
  /** SASL login; empty: no AUTH toward the smarthost. */
  username: string;
  password: pulumi.Input<string>;
}

export interface PostfixArgs extends Omit<PostfixSettings, "relayHost" | "capacity"> {
  host: HostAccess;
  /** The host's cores and memory, as the package step read them: process limits derive from it. */
  hostSize: pulumi.Input<HostSize>;
  /**
   * smtpd processes per service; 0 derives them from hostSize (docs/postfix.md#capacity).
   * @default 0
   */
  smtpdMaxProcesses?: number;
  /**
   * Smarthost for all outbound mail, with SASL credentials when `username` is set.
   * @see https://www.postfix.org/SASL_README.html#client_sasl
   */
  relayHost?: SmarthostArgs;
  /** Dovecot's sockets must exist before Postfix points at them. */
  dependsOn?: pulumi.Resource[];
}

/** The pure render settings of a Postfix component's args (what the security checks read too). */
export function renderSettings(args: Omit<PostfixArgs, "host" | "dependsOn" | "hostSize" | "smtpdMaxProcesses">, capacity: PostfixCapacity): PostfixSettings {
  const { relayHost, ...settings } = args;
  return { ...settings, capacity, relayHost: relayHost ? { nexthop: relayHost.nexthop, authenticated: relayHost.username !== "" } : undefined };
}

export class Postfix extends pulumi.ComponentResource {
  public readonly configured: command.remote.Command;

  constructor(name: string, args: PostfixArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mailfleet:mail:Postfix", name, {}, opts);
    const { host, dependsOn, hostSize, smtpdMaxProcesses, ...rest } = args;
    const sizedFiles = pulumi.output(hostSize).apply((size) => postfixFiles(renderSettings(rest, postfixCapacity(size, smtpdMaxProcesses ?? 0))));
    // Any size gives the same list of files and the same text for all but the sized ones.
    const settings = renderSettings(rest, postfixCapacity(ANY_HOST_SIZE, smtpdMaxProcesses ?? 0));
    const files: HostFileInput[] = postfixFiles(settings).map((f, i) =>
      SIZED_FILES.has(f.path) ? { ...f, content: sizedFiles.apply((all) => all[i].content) } : f);
    const credentials = args.relayHost && settings.relayHost?.authenticated ? this.smarthostCredentials(name, args, args.relayHost, dependsOn) : undefined;
    this.configured = installFiles(`${name}-config`, host, "postfix", files, {
      parent: this,
      dependsOn: credentials ? [...(dependsOn ?? []), credentials] : dependsOn,
    }, RELEASE_SMARTHOST_LOGIN);
    if (args.queueCleanupTimer) this.cleanupTimer(name, args);
    this.registerOutputs({});
  }

  /**
   * sasl_passwd on its own (root:root 0600), so the secret never makes main.cf's bundle secret
   * and its diff stays readable. Installed before main.cf names it; removed when the smarthost goes.
   */
  private smarthostCredentials(name: string, args: PostfixArgs, relay: SmarthostArgs, after?: pulumi.Resource[]) {
    const file = pulumi.secret(relay.password).apply((pw) => smarthostCredentials(args.stack, relay.nexthop, relay.username, pw));
    return installFiles(`${name}-smarthost-credentials`, args.host, "postfix smarthost", [{
      path: "/etc/postfix/sasl_passwd",
      owner: "root",
      group: "root",
      mode: "0600",
      kind: "postmap",
      content: pulumi.secret(file.content),
      secret: true,
    }], { parent: this, dependsOn: after }, ["rm -f /etc/postfix/sasl_passwd /etc/postfix/sasl_passwd.db"]);
  }

  /** Daily removal of deferred bounces (docs/postfix.md#bounces-and-queue-cleanup). */
  private cleanupTimer(name: string, args: PostfixArgs): command.remote.Command {
    return hostTimer(`${name}-queue-cleanup-timer`, {
      host: args.host,
      stack: args.stack,
      unit: "mailfleet-queue-cleanup",
      description: "Remove deferred MAILER-DAEMON bounces from the Postfix queue (mailfleet)",
      timerDescription: "Daily removal of deferred MAILER-DAEMON bounces (mailfleet)",
      execStart: "/usr/local/sbin/mailfleet-queue-cleanup",
      after: "postfix.service",
      onCalendar: "daily",
      randomizedDelay: "1h",
    }, { parent: this, dependsOn: [this.configured] });
  }
}
