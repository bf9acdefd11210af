// mailfleet's programs on the host are plain files under files/, linted here: shellcheck for the
// bash programs, perl -c for the Perl one. What this does not prove: that they work on a host
// (test/e2e runs them there).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { FILES_DIR, HOST_PROGRAMS, hostPrograms } from "../../components/host/host-programs";

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : [`/${path.relative(FILES_DIR, p)}`];
  });
}

const interpreter = (p: string) => fs.readFileSync(path.join(FILES_DIR, p), "utf8").split("\n")[0];

describe("host programs", () => {
  it("installs every file under files/ and nothing else", () => {
    assert.deepEqual([...HOST_PROGRAMS].sort(), filesUnder(FILES_DIR).sort());
    assert.deepEqual(hostPrograms().map((f) => f.mode), HOST_PROGRAMS.map(() => "0755"));
  });

  it("has no template placeholder left in any program", () => {
    for (const f of hostPrograms()) assert.doesNotMatch(f.content, /\{\{|\}\}/, f.path);
  });

  for (const p of HOST_PROGRAMS.filter((x) => interpreter(x) === "#!/bin/bash")) {
    it(`passes shellcheck: ${p}`, () => {
      const r = spawnSync("shellcheck", ["--shell=bash", "--severity=style", path.join(FILES_DIR, p)], { encoding: "utf8" });
      assert.equal(r.error, undefined, "shellcheck is not installed (test/tools/install.sh installs it)");
      assert.equal(r.status, 0, r.stdout);
    });
  }

  // POSIX sh where a program runs on every login (Debian's dash starts faster than bash).
  for (const p of HOST_PROGRAMS.filter((x) => interpreter(x) === "#!/bin/sh")) {
    it(`passes shellcheck as POSIX sh: ${p}`, () => {
      const r = spawnSync("shellcheck", ["--shell=sh", "--severity=style", path.join(FILES_DIR, p)], { encoding: "utf8" });
      assert.equal(r.error, undefined, "shellcheck is not installed (test/tools/install.sh installs it)");
      assert.equal(r.status, 0, r.stdout);
    });
  }

  for (const p of HOST_PROGRAMS.filter((x) => interpreter(x) === "#!/usr/bin/perl")) {
    it(`compiles with perl -c: ${p}`, () => {
      const r = spawnSync("perl", ["-c", path.join(FILES_DIR, p)], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /syntax OK/);
    });
  }

  it("knows every program's interpreter", () => {
    for (const p of HOST_PROGRAMS) assert.ok(["#!/bin/bash", "#!/bin/sh", "#!/usr/bin/perl"].includes(interpreter(p)), `${p}: ${interpreter(p)}`);
  });
});
