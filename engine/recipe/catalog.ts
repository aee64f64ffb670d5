import { existsSync } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { OrchardError, isOrchardError, messageOf } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';
import { repoRoot } from '../core/repo-root.js';
import { loadRecipe, type LoadedRecipe } from './load.js';

export interface CatalogProblem {
  file: string;
  error: OrchardError;
}

/** Folders searched for recipes: the bundled ones, then the user's (ORCHARD_HOME/recipes). */
export function recipeFolders(home: OrchardHome): { bundled: string; user: string } {
  return { bundled: path.join(repoRoot(), 'recipes'), user: home.userRecipes };
}

/** Every recipe that loads, plus the ones that do not (so the UI and `list` can show why). */
export async function scanRecipes(
  home: OrchardHome,
): Promise<{ recipes: (LoadedRecipe & { source: 'bundled' | 'user' })[]; problems: CatalogProblem[] }> {
  const folders = recipeFolders(home);
  const recipes: (LoadedRecipe & { source: 'bundled' | 'user' })[] = [];
  const problems: CatalogProblem[] = [];
  for (const [source, folder] of [
    ['bundled', folders.bundled],
    ['user', folders.user],
  ] as const) {
    for (const file of await recipeFiles(folder)) {
      try {
        if (source === 'user') await refuseLink(file);
        recipes.push({ ...(await loadRecipe(file)), source });
      } catch (err) {
        // One hostile or broken file is listed as invalid; it never takes the catalog down.
        problems.push({
          file,
          error: isOrchardError(err)
            ? err
            : new OrchardError('RECIPE_INVALID', `${file} cannot be read as a recipe: ${messageOf(err)}`, { where: file }),
        });
      }
    }
  }
  return { recipes, problems };
}

export async function listRecipes(home: OrchardHome): Promise<LoadedRecipe[]> {
  return (await scanRecipes(home)).recipes;
}

/** A path to a recipe file or folder, else a recipe id from the catalog (user recipes win). */
export async function findRecipe(idOrPath: string, home: OrchardHome): Promise<LoadedRecipe> {
  if (idOrPath.includes('/') || idOrPath.includes(path.sep) || idOrPath.endsWith('.json') || existsSync(idOrPath)) {
    return loadRecipe(idOrPath);
  }
  const { recipes, problems } = await scanRecipes(home);
  const matches = recipes.filter((r) => r.recipe.id === idOrPath);
  const chosen = matches.find((r) => r.source === 'user') ?? matches[0];
  if (chosen) return chosen;
  const broken = problems.find((p) => path.basename(path.dirname(p.file)) === idOrPath);
  if (broken) throw broken.error;
  throw new OrchardError('RECIPE_NOT_FOUND', `no recipe with id "${idOrPath}"`, {
    hint: `Known recipes: ${recipes.map((r) => r.recipe.id).join(', ') || 'none'}. Give a path to a recipe.json to use another one.`,
  });
}

/** A user recipe must be the file itself: a symlink could point anywhere (another app, a device, /proc). */
async function refuseLink(file: string): Promise<void> {
  for (const p of [path.dirname(file), file]) {
    if ((await lstat(p).catch(() => undefined))?.isSymbolicLink()) {
      throw new OrchardError('RECIPE_INVALID', `${p} is a symbolic link; recipes in ORCHARD_HOME/recipes must be plain files`, {
        where: p,
        hint: 'Copy the recipe there instead of linking it.',
      });
    }
  }
}

/** recipe.json in each folder, and loose *.json files; anything else that looks like one is listed too (and refused when loaded). */
async function recipeFiles(folder: string): Promise<string[]> {
  if (!existsSync(folder)) return [];
  const entries = await readdir(folder, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory() || (entry.isSymbolicLink() && !entry.name.endsWith('.json'))) {
      if ((await lstat(path.join(full, 'recipe.json')).catch(() => undefined)) !== undefined) files.push(path.join(full, 'recipe.json'));
    } else if (entry.name.endsWith('.json')) {
      files.push(full);
    }
  }
  return files;
}
