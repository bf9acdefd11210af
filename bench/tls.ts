// Benchmark: TLS on a fresh Debian 12 test host, against Debian's Pebble as the ACME CA.
//   npm run bench:tls        (root; boots its own hosts "benchtls" and "benchpeer", removes them)
// Prints figures, asserts nothing: the first `up` with ACME and DH regeneration, the time its
// certificate issuance and its DH install step took (the first up must not wait for a DH
// generation: the install step is compared with the whole run), then DH generation on the host
// for 2048, 3072 and 4096 bits, run after the `up` has finished, as it runs from the timer.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startResolver } from "../test/tools/dns-standin";
import { startPebble } from "../test/tools/pebble";
import { generatePasswords, hostOverrides, runStack } from "../test/tools/stack-run";
import { cannotBootHosts, ssh, startHost, stopHost, TestHost } from "../test/tools/testhost";

/** One DH generation on the host; 4096 bits can take many minutes, beyond ssh()'s default limit. */
function generate(host: TestHost, bits: number): number {
  const t0 = process.hrtime.bigint();
  const r = ssh(host, `openssl dhparam -out /tmp/bench-dh.pem ${bits} 2>/dev/null && rm -f /tmp/bench-dh.pem`, undefined, 20 * 60 * 1000);
  if (r.code !== 0) throw new Error(`DH generation of ${bits} bits failed (${r.code}): ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const INDEX = 42;

async function main(): Promise<void> {
  const why = cannotBootHosts();
  if (why) throw new Error(`bench needs real hosts: ${why}`);
  const peer = startHost("benchpeer", { fqdn: "peer.bench.test", index: 43 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailfleet-bench-tls-"));
  const resolver = await startResolver(peer.gateway4, [{ name: "mail.mailfleet.test", a: peer.ipv4.replace(/\.\d+$/, `.${INDEX}`) }], { localDomains: ["mailfleet.test"] });
  const pebble = await startPebble({ listen: peer.gateway4, dnsServer: resolver.address });
  try {
    const host = startHost("benchtls", { fqdn: "mail.mailfleet.test", index: INDEX });
    const passwords = generatePasswords("sandbox");
    const t0 = process.hrtime.bigint();
    const run = runStack("up", "sandbox", {
      ...hostOverrides(host, passwords),
      "mailfleet:tlsCertificateSource": { value: "acme" },
      "mailfleet:acmeDirectoryUrl": { value: pebble.directoryUrl },
      "mailfleet:acmeEmail": { value: "hostmaster@mailfleet.test" },
      "mailfleet:acmeCaCertificate": { value: pebble.serverCaPem.trim() },
      "mailfleet:dhParams": { value: "regenerate" },
    }, path.join(dir, "state.json"));
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    if (run.code !== 0) throw new Error(`up failed:\n${run.log.slice(-3000)}`);
    const step = (name: string) => run.summary.operations.find((o) => o.name === name)?.seconds ?? NaN;
    console.log(`first up with ACME and DH regeneration: ${wall.toFixed(1)} s wall`);
    console.log(`  certificate issuance (mail-acme-issue, Pebble, HTTP-01): ${step("mail-acme-issue").toFixed(1)} s`);
    console.log(`  DH install step (mail-dh-install, RFC 7919 group, no generation): ${step("mail-dh-install").toFixed(2)} s = ${((100 * step("mail-dh-install")) / wall).toFixed(1)} % of the up`);
    console.log(`  waiting for a DH generation during up: 0 s (the install step writes the fixed group; generation runs from the timer)`);
    for (const bits of [2048, 3072, 4096]) {
      console.log(`DH generation on the host, ${bits} bits: ${generate(host, bits).toFixed(1)} s (one run; the time varies widely with the random primes)`);
    }
  } finally {
    pebble.stop();
    resolver.stop();
    stopHost("benchtls", "benchpeer");
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
