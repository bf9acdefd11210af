// The records as Cloudflare DNS records (docs/dns.md#cloudflare): one resource per record, so a
// record that leaves the stack is deleted by Pulumi and records mailfleet did not create are
// never touched. @pulumi/cloudflare is loaded only for stacks that choose it.
import * as pulumi from "@pulumi/pulumi";
import type * as cloudflareTypes from "@pulumi/cloudflare";
import { CloudflareAccount, zoneOf } from "../config/dns";
import { DnsAdapter, PublishedRecord } from "./adapter";
import { DnsRecord, rdata } from "./records";

export interface CloudflareArgs {
  account: CloudflareAccount<pulumi.Input<string>>;
  ttl: number;
}

/** A DnsRecord's inputs for one record: TXT quoted as Cloudflare shows it, TLSA as fields. */
export function cloudflareRecordArgs(r: DnsRecord, zoneId: string, ttl: number): cloudflareTypes.DnsRecordArgs {
  const base = { zoneId, name: r.name, type: r.type, ttl, proxied: false, comment: "managed by mailfleet" };
  switch (r.type) {
    case "MX":
      return { ...base, content: r.value, priority: r.priority };
    case "TLSA": {
      const [usage, selector, matchingType, certificate] = r.value.split(" ");
      return { ...base, data: { usage: Number(usage), selector: Number(selector), matchingType: Number(matchingType), certificate } };
    }
    case "TXT":
      return { ...base, content: rdata(r) };
    case "A":
    case "AAAA":
      return { ...base, content: r.value };
    default: {
      const never: never = r.type;
      throw new Error(`unknown record type ${String(never)}`);
    }
  }
}

export class CloudflareAdapter implements DnsAdapter {
  readonly kind = "cloudflare";

  constructor(private readonly args: CloudflareArgs) {}

  publish(name: string, records: PublishedRecord[], opts: pulumi.ComponentResourceOptions): pulumi.Resource[] {
    const cloudflare = require("@pulumi/cloudflare") as typeof cloudflareTypes;
    const provider = new cloudflare.Provider(`${name}-cloudflare`, { apiToken: pulumi.secret(this.args.account.apiToken) }, { parent: opts.parent });
    return records.map((r) => {
      const zone = zoneOf(this.args.account.zones, r.name);
      if (!zone) throw new pulumi.ResourceError(`no Cloudflare zone for ${r.name} in mailfleet:cloudflareZoneIds`, opts.parent);
      const args = pulumi.output(r.value).apply((value) => cloudflareRecordArgs({ ...r, value }, zone.id, this.args.ttl));
      // One record per name and type (records.ts never repeats one), so the name is stable.
      return new cloudflare.DnsRecord(`${name}-dns-${r.type.toLowerCase()}-${r.name}`, {
        zoneId: zone.id,
        name: r.name,
        type: r.type,
        ttl: this.args.ttl,
        proxied: false,
        comment: "managed by mailfleet",
        content: args.apply((a) => a.content as string | undefined),
        priority: args.apply((a) => a.priority as number | undefined),
        data: args.apply((a) => a.data as cloudflareTypes.types.input.DnsRecordData | undefined),
      }, { parent: opts.parent, provider, dependsOn: opts.dependsOn });
    });
  }
}
