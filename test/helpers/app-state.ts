import path from 'node:path';
import { writeJsonAtomic } from '../../engine/core/atomic-write.js';
import type { AppState } from '../../engine/install/app-state.js';

/**
 * An installed app as Orchard sees it: `<home>/apps/<id>/state.json`, with the weights it
 * references, and a recipe file that no longer exists (so uninstall runs no recipe steps).
 */
export async function writeInstalledState(
  home: string,
  id: string,
  o: { weights?: Record<string, unknown>; kind?: AppState['recipe']['kind'] } = {},
): Promise<string> {
  const appRoot = path.join(home, 'apps', id);
  const now = new Date().toISOString();
  const state: AppState = {
    schema: 1,
    id,
    recipe: { id, name: id, version: '1', kind: o.kind ?? 'tool', file: path.join(home, 'no-such-recipe.json') },
    lifecycle: 'installed',
    profile: 'linux-x64-cpu',
    inputs: {},
    journal: {},
    weights: (o.weights ?? {}) as AppState['weights'],
    createdAt: now,
    updatedAt: now,
  };
  await writeJsonAtomic(path.join(appRoot, 'state.json'), state);
  return appRoot;
}
