import type { Command } from 'commander';
import { writeFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { OrchardError } from '../../core/errors.js';
import { parseRecipeJson, readRecipeText, RecipeInvalidError } from '../../recipe/load.js';
import { starterRecipe } from '../../recipe/starter.js';
import { validateRecipe } from '../../recipe/validate.js';
import type { RecipeIssue } from '../../recipe/schema-errors.js';
import { action, printJson, printLine } from '../output.js';

/** What `orchard recipe validate --json` prints: every problem of one recipe file. */
export interface RecipeFileReport {
  ok: boolean;
  file: string;
  errors: RecipeIssue[];
}

/** Read, parse and validate one recipe file, the way `orchard recipe validate` does. */
export async function validateRecipeFile(file: string): Promise<RecipeFileReport> {
  const { file: resolved, text } = await readRecipeText(file);
  let errors: RecipeIssue[];
  try {
    const result = validateRecipe(parseRecipeJson(text, resolved));
    errors = result.ok ? [] : result.errors;
  } catch (err) {
    if (!(err instanceof RecipeInvalidError)) throw err;
    errors = err.issues;
  }
  return { ok: errors.length === 0, file: resolved, errors };
}

/** The human form of a failed report: `file:pointer: message` lines (and hints), then a count. */
export function issueLines(report: RecipeFileReport): string[] {
  const lines: string[] = [];
  for (const e of report.errors) {
    lines.push(`${report.file}:${e.pointer || '/'}: ${e.message}\n`);
    if (e.hint) lines.push(`    hint: ${e.hint}\n`);
  }
  lines.push(`${report.errors.length} problem${report.errors.length === 1 ? '' : 's'} in ${report.file}\n`);
  return lines;
}

export function register(program: Command): void {
  const recipe = program.command('recipe').description('Write and check recipes');

  recipe
    .command('validate <file>')
    .description("Check a recipe against the schema and Orchard's rules; every problem is listed as file:pointer: message")
    .option('--json', 'print {ok, errors:[{pointer, message, hint}]}')
    .action(
      action(async (file: string, opts: { json?: boolean }) => {
        const report = await validateRecipeFile(file);
        if (opts.json) printJson(report);
        else if (report.ok) printLine(`${report.file}: ok`);
        else process.stderr.write(issueLines(report).join(''));
        if (!report.ok) process.exitCode = 1;
      }),
    );

  recipe
    .command('new <id>')
    .description('Write a starting recipe that validates, in ./<id>/recipe.json (or --out)')
    .requiredOption('--kind <kind>', 'llm | image | video | tool')
    .option('--out <folder>', 'where to create it', '.')
    .option('--json', 'print the path as JSON')
    .action(
      action(async (id: string, opts: { kind: string; out: string; json?: boolean }) => {
        const kinds = ['llm', 'image', 'video', 'tool'] as const;
        const kind = kinds.find((k) => k === opts.kind);
        if (!kind) throw new OrchardError('USAGE', `--kind must be one of ${kinds.join(', ')}`);
        const value = starterRecipe(id, kind);
        const result = validateRecipe(value);
        if (!result.ok) {
          throw new OrchardError(
            'USAGE',
            `"${id}" cannot be a recipe id: ${result.errors.map((e) => `${e.pointer} ${e.message}`).join('; ')}`,
            {
              hint: 'Use lower-case letters, digits and dashes, e.g. my-llm.',
            },
          );
        }
        const folder = path.resolve(opts.out, id);
        const file = path.join(folder, 'recipe.json');
        if (existsSync(file)) throw new OrchardError('USAGE', `${file} already exists`, { hint: 'Choose another id or --out folder.' });
        await mkdir(folder, { recursive: true });
        await writeFile(file, `${JSON.stringify(value, null, 2)}\n`);
        if (opts.json) printJson({ ok: true, file });
        else printLine(`wrote ${file}\nnext: orchard recipe validate ${file} && orchard plan ${file}`);
      }),
    );
}
