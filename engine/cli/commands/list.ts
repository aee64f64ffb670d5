import type { Command } from 'commander';
import { appPaths, resolveHome } from '../../core/home.js';
import { readAppState } from '../../install/state-store.js';
import { scanRecipes } from '../../recipe/catalog.js';
import { action, printJson, printLine } from '../output.js';
import { dim, red } from '../../core/style.js';

export function register(program: Command): void {
  program
    .command('list')
    .description('Recipes Orchard knows (bundled and yours) and whether each app is installed')
    .option('--json', 'print as JSON')
    .action(action(async (flags: { json?: boolean }) => {
      const home = resolveHome();
      const { recipes, problems } = await scanRecipes(home);
      const rows = await Promise.all(
        recipes.map(async ({ recipe, file, source }) => {
          const state = await readAppState(appPaths(home, recipe.id));
          return {
            id: recipe.id,
            name: recipe.name,
            version: recipe.version,
            kind: recipe.kind,
            source,
            file,
            accelerators: recipe.requires?.accelerators ?? [],
            memoryGiB: recipe.requires?.memoryGiB ?? null,
            diskGiB: recipe.requires?.diskGiB ?? null,
            installed: state?.lifecycle ?? null,
            verdict: state?.verdict ?? null,
          };
        }),
      );
      if (flags.json) {
        printJson({ recipes: rows, problems: problems.map((p) => ({ file: p.file, error: p.error.toJSON() })) });
        return;
      }
      for (const r of rows) {
        const status = r.installed ? `[${r.installed}]` : dim('[not installed]');
        printLine(`${r.id.padEnd(34)} ${r.kind.padEnd(6)} ${status} ${r.name}${r.source === 'user' ? dim(' (yours)') : ''}`);
      }
      for (const p of problems) printLine(red(`! ${p.file}: ${p.error.message}`));
    }));
}
