// The problems readConfig reports for a raw stack config, or [] when it accepts it.
import assert from "node:assert/strict";
import { ConfigError, readConfig } from "../../components/config";

export function configProblems(raw: Record<string, string>, secrets: ReadonlySet<string>): string[] {
  try {
    readConfig("acme-prod", raw, secrets);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  return [];
}
