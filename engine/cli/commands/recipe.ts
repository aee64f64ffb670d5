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

export function register(program: Command): void {
  const recipe = program.command('recipe').description('Write and check recipes');

  recipe
    .command('validate <file>')
    .description('Check a recipe against the schema and Orchard\'s rules; every problem is listed as file:pointer: message')
    .option('--json', 'print {ok, errors:[{pointer, message, hint}]}')
    .action(
      action(async (file: string, opts: { json?: boolean }) => {
        const { file: resolved, text } = await readRecipeText(file);
        let errors: RecipeIssue[];
        try {
          const result = validateRecipe(parseRecipeJson(text, resolved));
          errors = result.ok ? [] : result.errors;
        } catch (err) {
          if (!(err instanceof RecipeInvalidError)) throw err;
          errors = err.issues;
        }
        if (opts.json) printJson({ ok: errors.length === 0, file: resolved, errors });
        else if (errors.length === 0) printLine(`${resolved}: ok`);
        else {
          for (const e of errors) {
            process.stderr.write(`${resolved}:${e.pointer || '/'}: ${e.message}\n`);
            if (e.hint) process.stderr.write(`    hint: ${e.hint}\n`);
          }
          process.stderr.write(`${errors.length} problem${errors.length === 1 ? '' : 's'} in ${resolved}\n`);
        }
        if (errors.length > 0) process.exitCode = 1;
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
          throw new OrchardError('USAGE', `"${id}" cannot be a recipe id: ${result.errors.map((e) => `${e.pointer} ${e.message}`).join('; ')}`, {
            hint: 'Use lower-case letters, digits and dashes, e.g. my-llm.',
          });
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
