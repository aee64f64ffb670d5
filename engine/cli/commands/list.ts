import type { Command } from 'commander';
import { readdir } from 'node:fs/promises';
import { appPaths, resolveHome, type OrchardHome } from '../../core/home.js';
import type { AppState } from '../../install/app-state.js';
import { readAppState } from '../../install/state-store.js';
import { scanRecipes } from '../../recipe/catalog.js';
import { action, printJson, printLine } from '../output.js';
import { dim, red } from '../../core/style.js';

interface ListRow {
  id: string;
  name: string;
  version: string;
  kind: string;
  source: 'bundled' | 'user' | 'file';
  file: string;
  accelerators: string[];
  memoryGiB: number | null;
  diskGiB: number | null;
  installed: AppState['lifecycle'] | null;
  verdict: AppState['verdict'] | null;
}

/** Every app folder with a readable state, whatever recipe it came from. */
async function installedStates(home: OrchardHome): Promise<AppState[]> {
  const names = await readdir(home.apps).catch(() => [] as string[]);
  const states = await Promise.all(names.sort().map((name) => readAppState(appPaths(home, name)).catch(() => undefined)));
  return states.filter((s): s is AppState => s !== undefined);
}

export function register(program: Command): void {
  program
    .command('list')
    .description('Recipes Orchard knows (bundled and yours) and every installed app, whatever recipe it came from')
    .option('--json', 'print as JSON')
    .action(
      action(async (flags: { json?: boolean }) => {
        const home = resolveHome();
        const { recipes, problems } = await scanRecipes(home);
        const rows: ListRow[] = await Promise.all(
          recipes.map(async ({ recipe, file, source }) => {
            const state = await readAppState(appPaths(home, recipe.id));
            return {
              id: recipe.id,
              name: recipe.name,
              version: recipe.version,
              kind: recipe.kind,
              source: source as ListRow['source'],
              file,
              accelerators: recipe.requires?.accelerators ?? [],
              memoryGiB: recipe.requires?.memoryGiB ?? null,
              diskGiB: recipe.requires?.diskGiB ?? null,
              installed: state?.lifecycle ?? null,
              verdict: state?.verdict ?? null,
            };
          }),
        );
        // Apps installed from a recipe file elsewhere (orchard install ./x/recipe.json) are listed too.
        const known = new Set(rows.map((r) => r.id));
        for (const state of await installedStates(home)) {
          if (known.has(state.id)) continue;
          rows.push({
            id: state.id,
            name: state.recipe.name,
            version: state.recipe.version,
            kind: state.recipe.kind,
            source: 'file',
            file: state.recipe.file,
            accelerators: [],
            memoryGiB: null,
            diskGiB: null,
            installed: state.lifecycle,
            verdict: state.verdict ?? null,
          });
        }
        if (flags.json) {
          printJson({ recipes: rows, problems: problems.map((p) => ({ file: p.file, error: p.error.toJSON() })) });
          return;
        }
        for (const r of rows) {
          const status = r.installed ? `[${r.installed}]` : dim('[not installed]');
          printLine(
            `${r.id.padEnd(34)} ${r.kind.padEnd(6)} ${status} ${r.name}` +
              `${r.source === 'user' ? dim(' (yours)') : r.source === 'file' ? dim(` (from ${r.file})`) : ''}`,
          );
        }
        for (const p of problems) printLine(red(`! ${p.file}: ${p.error.message}`));
      }),
    );
}
