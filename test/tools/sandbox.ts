// The local sandbox mail host:
//   npm run sandbox -- up     boot a Debian 12 test host and provision it from
//                             stacks/Pulumi.sandbox.yaml through the engine double
//   npm run sandbox -- down   remove the host and .sandbox/
// `up` writes .sandbox/host.json: { ipv4, ipv6, hostname, domain, user, password, caCert } and is
// safe to repeat (a second run changes nothing on the host).
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { generatePasswords, hostOverrides, ROOT, runStack, stackConfig } from "./stack-run";
import { cannotBootHosts, startHost, stopHost, TestHost } from "./testhost";

const STACK = "sandbox";
const HOST = "sandbox";
const DIR = path.join(ROOT, ".sandbox");

function up(): number {
  const why = cannotBootHosts();
  if (why) throw new Error(`the sandbox ${why}`);
  fs.mkdirSync(DIR, { recursive: true, mode: 0o700 });
  const cfg = stackConfig(STACK);
  const hostFile = path.join(DIR, "testhost.json");
  let host: TestHost;
  if (fs.existsSync(hostFile) && fs.existsSync(`/run/mailfleet/${HOST}`)) {
    host = JSON.parse(fs.readFileSync(hostFile, "utf8"));
    console.log(`sandbox host already running at ${host.ipv4}`);
  } else {
    console.log("booting the sandbox host (the first run builds a Debian 12 image, about a minute)...");
    host = startHost(HOST, { fqdn: String(cfg.hostname), index: 25 });
    fs.writeFileSync(hostFile, JSON.stringify(host, null, 1));
  }
  const passwordsFile = path.join(DIR, "passwords.yaml");
  if (!fs.existsSync(passwordsFile)) fs.writeFileSync(passwordsFile, YAML.stringify(generatePasswords(STACK)), { mode: 0o600 });
  const passwords = YAML.parse(fs.readFileSync(passwordsFile, "utf8")) as Record<string, string>;
  console.log("provisioning from stacks/Pulumi.sandbox.yaml...");
  const run = runStack("up", STACK, hostOverrides(host, passwords), path.join(DIR, "state-sandbox.json"));
  process.stderr.write(run.log);
  if (run.code !== 0) return run.code;
  const caCert = path.join(DIR, "ca.pem");
  fs.writeFileSync(caCert, String(run.summary.outputs.certificatePem));
  const [user] = Object.keys(passwords);
  const info = {
    ipv4: host.ipv4,
    ipv6: host.ipv6,
    hostname: String(cfg.hostname),
    domain: user.slice(user.indexOf("@") + 1),
    user,
    password: passwords[user],
    caCert,
  };
  fs.writeFileSync(path.join(DIR, "host.json"), `${JSON.stringify(info, null, 1)}\n`, { mode: 0o600 });
  console.log(`sandbox ready: ${info.hostname} at ${info.ipv4} / ${info.ipv6}; log in as ${info.user} (password in .sandbox/host.json), trust ${caCert}`);
  return 0;
}

function down(): number {
  stopHost(HOST);
  fs.rmSync(DIR, { recursive: true, force: true });
  console.log("sandbox removed");
  return 0;
}

const verb = process.argv[2];
try {
  process.exit(verb === "up" ? up() : verb === "down" ? down() : (console.error("usage: npm run sandbox -- up|down"), 2));
} catch (err) {
  console.error(`sandbox: ${(err as Error).message}`);
  process.exit(1);
}
