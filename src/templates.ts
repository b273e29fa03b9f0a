/** Snippet templates from templates/: `{{name}}` placeholders, nothing more. */
import * as fs from "node:fs";
import * as path from "node:path";

export const TEMPLATE_DIR = path.join(__dirname, "..", "templates");

export function renderTemplate(name: string, vars: Record<string, string>): string {
  const text = fs.readFileSync(path.join(TEMPLATE_DIR, name), "utf8");
  return text.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
    if (!(k in vars)) throw new Error(`template ${name}: no value for {{${k}}}`);
    return vars[k];
  });
}
