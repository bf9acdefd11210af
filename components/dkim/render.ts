// Rspamd's files for DKIM signing, rendered from templates/etc/rspamd (docs/dkim.md). Pure.
import type { HostFile } from "../host/bundle";
import { managedHeader, renderTemplate } from "../render/template";

export const DKIM_KEY_DIR = "/var/lib/rspamd/dkim";

/** Where a selector's private key lives on the host (a new selector is a new file). */
export function dkimKeyPath(selector: string): string {
  return `${DKIM_KEY_DIR}/${selector}.key`;
}

export interface RspamdSettings {
  stack: string;
  /** Hosted domains: the only ones signed. */
  domains: string[];
  /** The signing selector. */
  selector: string;
}

export function rspamdFiles(s: RspamdSettings): HostFile[] {
  const header = managedHeader(s.stack);
  const file = (path: string, content: string): HostFile => ({ path, owner: "root", group: "root", mode: "0644", kind: "plain", content });
  const domains = s.domains
    .map((d) => `  ${d} {\n    selector = "${s.selector}";\n    path = "${dkimKeyPath(s.selector)}";\n  }`)
    .join("\n");
  return [
    file("/etc/rspamd/local.d/dkim_signing.conf", renderTemplate("etc/rspamd/local.d/dkim_signing.conf", { header, domains })),
    file("/etc/rspamd/local.d/settings.conf", renderTemplate("etc/rspamd/local.d/settings.conf", { header })),
    file("/etc/rspamd/override.d/options.inc", renderTemplate("etc/rspamd/override.d/options.inc", { header })),
    file("/etc/rspamd/override.d/worker-proxy.inc", renderTemplate("etc/rspamd/override.d/worker-proxy.inc", { header })),
  ];
}
