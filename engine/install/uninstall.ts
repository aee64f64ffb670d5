import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { isOrchardError } from '../core/errors.js';
import { ignoreEvents, type Emit } from '../core/events.js';
import { appPaths, type OrchardHome } from '../core/home.js';
import { loadRecipe } from '../recipe/load.js';
import { planRecipe } from '../recipe/plan.js';
import { resolveProfile } from '../recipe/resolve-profile.js';
import { purgeUnreferencedBlobs } from '../store/gc.js';
import { acquireAppLock } from './app-lock.js';
import { requireAppState } from './state-store.js';
import { runStepsOnce } from './run-steps-once.js';

export interface UninstallOptions {
  home: OrchardHome;
  id: string;
  /** Also delete store blobs that no other app references. Default: keep every model. */
  purgeModels?: boolean;
  emit?: Emit;
}

export interface UninstallResult {
  removed: string;
  uninstallSteps: string[];
  purged: { sha256: string; size: number }[];
  warnings: string[];
}

/**
 * Runs the recipe's `uninstall` script (when the recipe can still be read), then removes
 * apps/<id> entirely. The shared store is never touched unless purgeModels is set, and then only
 * blobs no remaining app references are removed.
 */
export async function uninstallApp(o: UninstallOptions): Promise<UninstallResult> {
  const state = await requireAppState(o.home, o.id);
  const app = appPaths(o.home, o.id);
  const release = await acquireAppLock(app, 'uninstall');
  const warnings: string[] = [];
  let uninstallSteps: string[] = [];
  try {
    if (existsSync(state.recipe.file)) {
      try {
        const plan = await planRecipe(await loadRecipe(state.recipe.file), { profile: await resolveProfile('host'), inputs: state.inputs, home: o.home });
        uninstallSteps = await runStepsOnce(plan, plan.scripts.uninstall, o.home, o.emit ?? ignoreEvents);
      } catch (err) {
        if (!isOrchardError(err)) throw err;
        warnings.push(`the recipe's uninstall steps did not run: ${err.message}`);
      }
    }
    await rm(app.root, { recursive: true, force: true });
  } finally {
    await release().catch(() => undefined);
  }
  let purged: { sha256: string; size: number }[] = [];
  if (o.purgeModels) {
    try {
      purged = await purgeUnreferencedBlobs(o.home);
    } catch (err) {
      // The app is gone already; only the purge waits (another app's install is running).
      if (!isOrchardError(err) || err.code !== 'LOCKED') throw err;
      warnings.push(`${err.message}. ${err.hint ?? ''}`.trim());
    }
  }
  return { removed: app.root, uninstallSteps, purged, warnings };
}
