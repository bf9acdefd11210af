// Template rendering: pure functions, no resources. Templates live under templates/, their
// paths mirroring the host.
import * as fs from "fs";
import * as path from "path";

export const TEMPLATE_DIR = path.join(__dirname, "..", "..", "templates");

/**
 * Fills `{{name}}` placeholders of `templates/<hostPath>.tmpl`. Throws on a placeholder without a
 * value and on a value the template does not use, so templates and code cannot drift apart.
 * Postfix `$var`/`${var}` and Dovecot `%u` never clash: they never use double braces.
 */
export function renderTemplate(hostPath: string, vars: Record<string, string>): string {
  const file = path.join(TEMPLATE_DIR, `${hostPath.replace(/^\//, "")}.tmpl`);
  const template = fs.readFileSync(file, "utf8");
  // Checked on the template, not the output: a value (a password, an address) may contain braces.
  if (/\{\{|\}\}/.test(template.replace(/\{\{[a-zA-Z0-9_]+\}\}/g, ""))) throw new Error(`template ${file}: malformed placeholder`);
  const used = new Set<string>();
  const out = template.replace(/\{\{([a-zA-Z0-9_]+)\}\}/g, (_, name: string) => {
    if (!(name in vars)) throw new Error(`template ${file}: no value for {{${name}}}`);
    used.add(name);
    return vars[name];
  });
  const unused = Object.keys(vars).filter((n) => !used.has(n));
  if (unused.length) throw new Error(`template ${file}: unused values ${unused.join(", ")}`);
  return out;
}

/** The standard first line of every rendered file. */
export function managedHeader(stack: string): string {
  return `# managed by mailfleet (stack ${stack}); local edits are overwritten`;
}
