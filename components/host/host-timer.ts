// A systemd service+timer pair on the host, installed through the one write path
// (mailfleet-apply's systemd profile: verified, swapped, daemon-reload, timer enabled).
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { managedHeader, renderTemplate } from "../render/template";
import { installFiles } from "./install-files";
import { HostAccess } from "./remote";

export interface HostTimerArgs {
  host: HostAccess;
  stack: string;
  /** Unit name without suffix: mailfleet-<job>. */
  unit: string;
  /** The service's Description= (the timer's says when). */
  description: string;
  /** The timer's Description=. */
  timerDescription: string;
  /** Absolute command line the service runs (ExecStart=); never a secret. */
  execStart: string;
  /** Units the job needs running first (After=). */
  after: string;
  /**
   * systemd.time(7) calendar expression.
   * @example "daily"
   */
  onCalendar: string;
  /** RandomizedDelaySec=, so that many hosts do not run the job at the same second. */
  randomizedDelay: string;
  /**
   * OnActiveSec=: also run this long after the timer is (re)started, e.g. a first run soon after install.
   * @default none
   */
  onActive?: string;
}

/** The two unit files of a timer job. */
export function timerUnits(args: Omit<HostTimerArgs, "host">) {
  const header = managedHeader(args.stack);
  const unitFile = (suffix: "service" | "timer", vars: Record<string, string>) => ({
    path: `/etc/systemd/system/${args.unit}.${suffix}`,
    owner: "root",
    group: "root",
    mode: "0644",
    kind: "plain" as const,
    content: renderTemplate(`etc/systemd/system/mailfleet-timer.${suffix}`, { header, ...vars }),
  });
  return [
    unitFile("service", { description: args.description, after: args.after, execStart: args.execStart }),
    unitFile("timer", {
      description: args.timerDescription,
      triggers: [`OnCalendar=${args.onCalendar}`, ...(args.onActive ? [`OnActiveSec=${args.onActive}`] : [])].join("\n"),
      randomizedDelay: args.randomizedDelay,
    }),
  ];
}

/**
 * One step that installs and enables the pair; destroying it disables the timer and removes both
 * units. A building block rather than a component, so the step keeps its name and parent.
 */
export function hostTimer(name: string, args: HostTimerArgs, opts: pulumi.CustomResourceOptions): command.remote.Command {
  const service = `/etc/systemd/system/${args.unit}.service`;
  const timer = `/etc/systemd/system/${args.unit}.timer`;
  if (!/^mailfleet-[a-z0-9-]+$/.test(args.unit)) throw new Error(`timer unit "${args.unit}" must be named mailfleet-<job>`);
  return installFiles(name, args.host, `systemd ${args.unit}`, timerUnits(args), opts, [
    `systemctl disable --now ${args.unit}.timer`,
    // A run in progress stops too (a DH generation must not finish after its timer is gone).
    `systemctl stop ${args.unit}.service`,
    `rm -f ${service} ${timer}`,
    "systemctl daemon-reload",
  ]);
}
