// The sizing rule of Dovecot's limits (docs/dovecot.md#capacity), and the host-size line the
// package step prints.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dovecotCapacity } from "../../components/dovecot/capacity";
import { parseHostSize } from "../../components/host/host-size";

describe("Dovecot capacity", () => {
  const cases: Array<[string, { cores: number; memMiB: number }, number, { imapSessions: number; loginProcesses: number; loginClientsPerProcess: number; authWorkers: number; clientLimit: number }]> = [
    ["a 2-core 2 GiB host", { cores: 2, memMiB: 2048 }, 0, { imapSessions: 384, loginProcesses: 2, loginClientsPerProcess: 228, authWorkers: 2, clientLimit: 1000 }],
    ["an 8-core 8 GiB host", { cores: 8, memMiB: 8192 }, 0, { imapSessions: 1920, loginProcesses: 8, loginClientsPerProcess: 280, authWorkers: 8, clientLimit: 4260 }],
    ["a tiny host gets the floor", { cores: 1, memMiB: 512 }, 0, { imapSessions: 100, loginProcesses: 1, loginClientsPerProcess: 126, authWorkers: 1, clientLimit: 1000 }],
    ["a huge host gets the ceiling", { cores: 64, memMiB: 262144 }, 0, { imapSessions: 20000, loginProcesses: 64, loginClientsPerProcess: 360, authWorkers: 64, clientLimit: 43140 }],
    ["imapMaxSessions overrides the rule", { cores: 2, memMiB: 2048 }, 1000, { imapSessions: 1000, loginProcesses: 2, loginClientsPerProcess: 566, authWorkers: 2, clientLimit: 2232 }],
  ];
  for (const [name, size, override, expected] of cases) {
    it(`sizes ${name}`, () => assert.deepEqual(dovecotCapacity(size, override), expected));
  }

  it("leaves room in the login processes for every session and the logins in progress", () => {
    for (const [, size, override] of cases) {
      const c = dovecotCapacity(size, override);
      assert.ok(c.loginProcesses * c.loginClientsPerProcess >= c.imapSessions * 1.1, JSON.stringify(c));
      assert.ok(c.clientLimit >= c.imapSessions + c.loginProcesses * c.loginClientsPerProcess, JSON.stringify(c));
    }
  });

  it("reads the package step's host-size line, and fails without one", () => {
    assert.deepEqual(parseHostSize("installed: postfix\nhost-size: cores=4 memMiB=7951\n"), { cores: 4, memMiB: 7951 });
    assert.throws(() => parseHostSize("installed: postfix\n"), /the package step printed no host-size line/);
    assert.throws(() => parseHostSize(undefined), /no host-size line/);
  });
});
