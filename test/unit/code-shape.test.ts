// The shape the layout promises (docs/README.md): no file in components/ longer than 400 lines
// and no function longer than 120, read with the TypeScript parser. Cheap to keep, and what
// keeps the next feature an edit in one section module instead of a scroll through one function.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";

const COMPONENTS = path.join(__dirname, "..", "..", "components");
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 120;

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

function longFunctions(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      if (end - start + 1 > MAX_FUNCTION_LINES) out.push(`${path.relative(COMPONENTS, file)}:${start + 1} (${end - start + 1} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

describe("code shape of components/", () => {
  const files = sources(COMPONENTS);

  it(`keeps every file under ${MAX_FILE_LINES} lines`, () => {
    const long = files.filter((f) => fs.readFileSync(f, "utf8").split("\n").length > MAX_FILE_LINES).map((f) => path.relative(COMPONENTS, f));
    assert.deepEqual(long, []);
  });

  it(`keeps every function under ${MAX_FUNCTION_LINES} lines`, () => {
    assert.deepEqual(files.flatMap(longFunctions), []);
  });

  it("keeps the files in folders by concern, with only the top component at the top", () => {
    const top = fs.readdirSync(COMPONENTS).filter((f) => f.endsWith(".ts"));
    assert.deepEqual(top, ["mail-server.ts"]);
  });

  it("cites no document the reader does not have", () => {
    for (const f of files) assert.doesNotMatch(fs.readFileSync(f, "utf8"), /mailspec|\bF-[0-9]{2}\b/, path.relative(COMPONENTS, f));
  });
});
