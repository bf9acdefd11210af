// Publishing the records (docs/dns.md#adapters): the records are pure data (records.ts); an
// adapter per DNS provider turns them into resources. "none" publishes nothing and leaves the
// records to the stack outputs; "rfc2136" sends dynamic updates from the host (rfc2136.ts).
import * as pulumi from "@pulumi/pulumi";
import { DnsRecord } from "./records";

/** A record to publish: its value may still be unknown (the TLSA digest of a new key). */
export type PublishedRecord = Omit<DnsRecord, "value"> & { value: pulumi.Input<string> };

export interface DnsAdapter {
  /** Provider name as the stack config selects it (mailfleet:dnsProvider). */
  readonly kind: string;
  /**
   * Creates whatever makes `records` exactly the published set for this stack (record sets
   * replaced, none left behind for a removed domain). Returns the resources to depend on.
   */
  publish(name: string, records: PublishedRecord[], opts: pulumi.ComponentResourceOptions): pulumi.Resource[];
}

/** No provider: the operator publishes the records shown in the stack outputs. */
export const noDnsAdapter: DnsAdapter = {
  kind: "none",
  publish: () => [],
};
