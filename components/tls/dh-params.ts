// Finite-field DH parameters for TLS 1.2 DHE suites (docs/tls.md#dh-parameters): generated on the
// host and regenerated on a schedule, the fixed RFC 7919 group, or none (ECDHE only).
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import type { DhParamsMode } from "../config/tls";
import { hostTimer } from "../host/host-timer";
import { HostAccess, remoteStep } from "../host/remote";
import { DH_PARAM_FILE } from "./profile";

export interface DhParamsArgs {
  host: HostAccess;
  stack: string;
  /**
   * `regenerate`: openssl dhparam on the host from a timer; `ffdhe`: the RFC 7919 group; `none`: no file.
   * @see https://www.postfix.org/FORWARD_SECRECY_README.html
   */
  mode: DhParamsMode;
  /** Group size in bits (3072 or 4096). */
  bits: number;
  /**
   * systemd OnCalendar of the regeneration (mode regenerate).
   * @example "weekly"
   */
  schedule: string;
  dependsOn?: pulumi.Resource[];
}

/**
 * The first `up` never waits for a generation: the install step puts the RFC 7919 group of the
 * chosen size in place at once, and in `regenerate` mode the timer's first run (two minutes after
 * it is installed) replaces it in the background, renames it into place and reloads both daemons.
 */
export class DhParams extends pulumi.ComponentResource {
  /** The parameters file the daemons read; undefined in mode none. */
  public readonly file?: string;
  /** Depend on this to run after the file is in place. */
  public readonly ready: command.remote.Command;

  constructor(name: string, args: DhParamsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mailfleet:tls:DhParams", name, {}, opts);
    this.file = args.mode === "none" ? undefined : DH_PARAM_FILE;
    this.ready = remoteStep(`${name}-install`, {
      host: args.host,
      create: `/usr/local/sbin/mailfleet-dhparams install ${args.mode} ${args.bits}`,
    }, { parent: this, dependsOn: args.dependsOn });
    if (args.mode === "regenerate") {
      hostTimer(`${name}-timer`, {
        host: args.host,
        stack: args.stack,
        unit: "mailfleet-dhparams",
        description: `Generate new ${args.bits}-bit DH parameters for Postfix and Dovecot (mailfleet)`,
        timerDescription: "Scheduled DH parameter regeneration (mailfleet)",
        execStart: `/usr/local/sbin/mailfleet-dhparams regenerate ${args.bits}`,
        after: "postfix.service dovecot.service",
        onCalendar: args.schedule,
        onActive: "2min",
        randomizedDelay: "1h",
      }, { parent: this, dependsOn: [this.ready] });
    }
    this.registerOutputs({});
  }
}
