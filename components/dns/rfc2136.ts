// RFC 2136 dynamic updates signed with a TSIG key (docs/dns.md#rfc-2136): the host's
// mailfleet-dns sends them with nsupdate to the zones' primary server. The host, not the machine
// running Pulumi, talks to the server: it gets nsupdate from Debian's archive, and the host's
// own list of what it published (dns.owned) lives where the updates are made.
import * as pulumi from "@pulumi/pulumi";
import type { Rfc2136Server } from "../config/dns";
import { HostAccess, remoteStep } from "../host/remote";
import { DnsAdapter, PublishedRecord } from "./adapter";
import { DnsRecord, rdata } from "./records";

export interface Rfc2136Args {
  host: HostAccess;
  /** The server and key; the secret must be a secret Input. */
  server: Rfc2136Server<pulumi.Input<string>>;
  ttl: number;
}

/**
 * The request mailfleet-dns reads on stdin. A TXT record holding SPF goes as type SPF: it replaces
 * only the SPF records at its name, never the other TXT records a domain's apex carries.
 */
export function updateRequest(server: Omit<Rfc2136Server, "kind">, records: DnsRecord[], ttl: number): string {
  const lines = [
    `server ${server.server} ${server.port}`,
    `key ${server.algorithm} ${server.keyName}`,
    `secret ${server.secret}`,
    `ttl ${ttl}`,
    ...records.map((r) => `rr ${r.name} ${r.type === "TXT" && r.value.startsWith("v=spf1 ") ? "SPF" : r.type} ${rdata(r)}`),
    `@@done ${records.length}`,
  ];
  return `${lines.join("\n")}\n`;
}

export class Rfc2136Adapter implements DnsAdapter {
  readonly kind = "rfc2136";

  constructor(private readonly args: Rfc2136Args) {}

  publish(name: string, records: PublishedRecord[], opts: pulumi.ComponentResourceOptions): pulumi.Resource[] {
    const { server, ttl } = this.args;
    const values = pulumi.all(records.map((r) => r.value));
    const stdin = pulumi.all([values, server.secret]).apply(([vs, secret]) => updateRequest({ ...server, secret }, records.map((r, i) => ({ ...r, value: vs[i] })), ttl));
    return [
      remoteStep(`${name}-dns`, {
        host: this.args.host,
        create: "/usr/local/sbin/mailfleet-dns publish",
        // Destroy: the old request (its key and server) deletes every record set the host published.
        delete: "/usr/local/sbin/mailfleet-dns remove",
        stdin: pulumi.secret(stdin),
        secret: true,
        // Create-before-delete would run the old step's remove after the new publish, deleting
        // the records just published.
      }, { ...opts, deleteBeforeReplace: true }),
    ];
  }
}
