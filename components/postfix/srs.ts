// postsrsd's settings for SRS (docs/postfix.md#srs), rendered from templates/etc/default. Pure.
import type { HostFile } from "../host/bundle";
import { managedHeader, renderTemplate } from "../render/template";

export const POSTSRSD_DEFAULTS = "/etc/default/postsrsd";

export interface SrsSettings {
  stack: string;
  /** The rewritten senders' domain. */
  hostname: string;
  /** Senders in these domains are never rewritten. */
  domains: string[];
}

export function postsrsdFiles(s: SrsSettings): HostFile[] {
  const content = renderTemplate("etc/default/postsrsd", {
    header: managedHeader(s.stack),
    hostname: s.hostname,
    excludeDomains: s.domains.join(","),
  });
  return [{ path: POSTSRSD_DEFAULTS, owner: "root", group: "root", mode: "0644", kind: "plain", content }];
}
