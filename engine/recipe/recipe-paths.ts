import path from 'node:path';
import { OrchardError } from '../core/errors.js';
import { isInside } from '../core/home.js';

/**
 * Where a recipe may point. Relative paths are relative to apps/<id>/; every resolved path must lie
 * inside one of the allowed roots, or the recipe is refused — a recipe never writes outside its app
 * folder (reads may also come from the store and the recipe's own folder).
 */
export interface PathRoots {
  appRoot: string;
  store: string;
  recipeDir: string;
  models: string;
}

export type PathRule = 'app' | 'read' | 'models';

export function resolveRecipePath(value: string, rule: PathRule, roots: PathRoots, where: string): string {
  const base = rule === 'models' ? roots.models : roots.appRoot;
  const resolved = path.resolve(base, value);
  const allowed = rule === 'app' ? [roots.appRoot] : rule === 'models' ? [roots.models] : [roots.appRoot, roots.store, roots.recipeDir];
  if (!allowed.some((root) => isInside(root, resolved))) {
    const place =
      rule === 'app' ? 'the app folder' : rule === 'models' ? 'the app models folder' : 'the app folder, the store or the recipe folder';
    throw new OrchardError('PATH_ESCAPE', `path "${value}" resolves outside ${place}`, {
      where,
      hint:
        rule === 'models'
          ? 'Weight files are relative to apps/<id>/models/ and may not contain "..".'
          : 'Use a path relative to the app (e.g. "app/config.json") or a variable such as {{app.dir}}; ".." and absolute paths ' +
            'elsewhere are refused.',
    });
  }
  return resolved;
}
