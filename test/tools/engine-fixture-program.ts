// An engine-fixture program as a Pulumi program file, for engine-cli's --program: the spec is the
// JSON file named by MAILFLEET_ENGINE_FIXTURE.
import * as fs from "fs";
import { buildProgram } from "./engine-fixture";

const specFile = process.env.MAILFLEET_ENGINE_FIXTURE;
if (!specFile) throw new Error("MAILFLEET_ENGINE_FIXTURE is not set");
export = buildProgram(JSON.parse(fs.readFileSync(specFile, "utf8")));
