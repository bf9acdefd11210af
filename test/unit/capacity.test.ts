// The sizing rules of Dovecot's and Postfix's limits (docs/dovecot.md#capacity,
// docs/postfix.md#capacity), the config key that overrides Postfix's, how the limits reach
// main.cf and master.cf, and the host-size line the package step prints.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, readConfig } from "../../components/config";
import { dovecotCapacity } from "../../components/dovecot/capacity";
import { parseHostSize } from "../../components/host/host-size";
import { postfixCapacity } from "../../components/postfix/capacity";
import { mainCf, masterCf } from "../../components/postfix/render";
import { postfixSettings } from "../fixtures/settings";
import { fullStack } from "../fixtures/stacks";

describe("Dovecot capacity", () => {
  type Expected = ReturnType<typeof dovecotCapacity>;
  const cases: Array<[string, { cores: number; memMiB: number }, number, Expected]> = [
    ["a 2-core 2 GiB host", { cores: 2, memMiB: 2048 }, 0, { imapSessions: 384, loginProcesses: 2, loginClientsPerProcess: 210, imapProcessLimit: 457, authWorkers: 2, clientLimit: 1000, authClientLimit: 1000 }],
    ["an 8-core 8 GiB host", { cores: 8, memMiB: 8192 }, 0, { imapSessions: 1920, loginProcesses: 8, loginClientsPerProcess: 254, imapProcessLimit: 2150, authWorkers: 8, clientLimit: 4282, authClientLimit: 1648 }],
    ["a tiny host gets the floor", { cores: 1, memMiB: 512 }, 0, { imapSessions: 100, loginProcesses: 1, loginClientsPerProcess: 121, imapProcessLimit: 144, authWorkers: 1, clientLimit: 1000, authClientLimit: 1000 }],
    ["a huge host gets the ceiling", { cores: 64, memMiB: 262144 }, 0, { imapSessions: 20000, loginProcesses: 64, loginClientsPerProcess: 329, imapProcessLimit: 22125, authWorkers: 64, clientLimit: 43281, authClientLimit: 3264 }],
    ["imapMaxSessions overrides the rule", { cores: 2, memMiB: 2048 }, 1000, { imapSessions: 1000, loginProcesses: 2, loginClientsPerProcess: 533, imapProcessLimit: 1136, authWorkers: 2, clientLimit: 2302, authClientLimit: 1000 }],
    ["an override that does not divide by the cores", { cores: 3, memMiB: 2048 }, 1000, { imapSessions: 1000, loginProcesses: 3, loginClientsPerProcess: 356, imapProcessLimit: 1138, authWorkers: 3, clientLimit: 2306, authClientLimit: 1000 }],
  ];
  for (const [name, size, override, expected] of cases) {
    it(`sizes ${name}`, () => assert.deepEqual(dovecotCapacity(size, override, postfixCapacity(size, 0).processes), expected));
  }

  it("leaves the refusal to the gate: login slots and imap processes stay above the sessions", () => {
    for (const [, size, override] of cases) {
      const c = dovecotCapacity(size, override, postfixCapacity(size, 0).processes);
      const slots = c.loginProcesses * c.loginClientsPerProcess;
      // A reserve of slots, so clients beyond the sessions reach the gate and hear its BYE.
      assert.ok(slots >= c.imapSessions * 1.05 + 16, JSON.stringify(c));
      // Every login slot can hold a logged-in session, plus imap processes still exiting.
      assert.ok(c.imapProcessLimit >= slots * 1.05, JSON.stringify(c));
      assert.ok(c.clientLimit >= c.imapProcessLimit + slots, JSON.stringify(c));
      // Every smtpd of 587, 465 (and 25 with AUTH) and every login process holds an auth connection.
      assert.ok(c.authClientLimit >= 3 * postfixCapacity(size, 0).processes + c.loginProcesses, JSON.stringify(c));
    }
  });

  it("reads the package step's host-size line, and fails without one", () => {
    assert.deepEqual(parseHostSize("installed: postfix\nhost-size: cores=4 memMiB=7951\n"), { cores: 4, memMiB: 7951 });
    assert.throws(() => parseHostSize("installed: postfix\n"), /the package step printed no host-size line/);
    assert.throws(() => parseHostSize(undefined), /no host-size line/);
  });
});

describe("Postfix capacity", () => {
  const cases: Array<[string, { cores: number; memMiB: number }, number, ReturnType<typeof postfixCapacity>]> = [
    ["a 2 GiB host gets Postfix's own 100", { cores: 2, memMiB: 2048 }, 0, { processes: 100, perClientConnections: 10 }],
    ["an 8 GiB host", { cores: 8, memMiB: 8192 }, 0, { processes: 480, perClientConnections: 48 }],
    ["a huge host gets the ceiling", { cores: 64, memMiB: 262144 }, 0, { processes: 1000, perClientConnections: 50 }],
    ["smtpdMaxProcesses overrides the rule", { cores: 2, memMiB: 2048 }, 300, { processes: 300, perClientConnections: 30 }],
    ["a small override keeps 10 sessions per client", { cores: 2, memMiB: 2048 }, 20, { processes: 20, perClientConnections: 10 }],
  ];
  for (const [name, size, override, expected] of cases) {
    it(`sizes ${name}`, () => assert.deepEqual(postfixCapacity(size, override), expected));
  }

  it("refuses too few smtpd processes, naming the key, the value and the fix", () => {
    const secrets = new Set(fullStack.secretKeys);
    assert.throws(() => readConfig("acme-prod", { ...fullStack.config, "mailfleet:smtpdMaxProcesses": "5" }, secrets), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems, ["mailfleet:smtpdMaxProcesses: 5 leaves too few smtpd processes for mail and submission to share (a slow sender holds one for minutes): set at least 20, or 0 to derive it from the host's memory"]);
      return true;
    });
    assert.equal(readConfig("acme-prod", { ...fullStack.config, "mailfleet:smtpdMaxProcesses": "20" }, secrets).capacity.smtpdMaxProcesses, 20);
    assert.equal(readConfig("acme-prod", fullStack.config, secrets).capacity.smtpdMaxProcesses, 0);
  });

  it("puts port 25 behind postscreen, with no tests and no wait when there are no DNSBLs", () => {
    const s = { ...postfixSettings, postscreenDnsblSites: [], capacity: { processes: 100, perClientConnections: 10 } };
    const main = mainCf(s);
    // Only the smtpd services get the derived count; every other service keeps Postfix's 100.
    assert.doesNotMatch(main, /^default_process_limit/m);
    assert.match(main, /^postscreen_post_queue_limit = 100$/m);
    assert.match(main, /^postscreen_pre_queue_limit = 100$/m);
    assert.match(main, /^postscreen_client_connection_count_limit = 10$/m);
    // An empty banner turns the pregreet test off: postscreen hands each client on at once.
    assert.match(main, /^postscreen_greet_banner = $/m);
    assert.doesNotMatch(main, /^postscreen_(dnsbl|greet_action)/m);
    const master = masterCf(s);
    assert.match(master, /^smtp {6}inet {2}n {7}- {7}y {7}- {7}1 {7}postscreen$/m);
    assert.match(master, /^smtpd {5}pass {2}- {7}- {7}y {7}- {7}100 {5}smtpd\n {2}-o smtpd_client_connection_count_limit=10$/m);
    assert.match(master, /^submission inet n {7}- {7}y {7}- {7}100 {5}smtpd$/m);
    assert.match(master, /^submissions inet n {6}- {7}y {7}- {7}100 {5}smtpd$/m);
    assert.match(master, /^smtp {6}unix {2}- {7}- {7}y {7}- {7}- {7}smtp$/m);
    assert.doesNotMatch(master, /dnsblog/);
    assert.doesNotMatch(master, /^smtp {6}inet .*smtpd$/m);
  });
});
