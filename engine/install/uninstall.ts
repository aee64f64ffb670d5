import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { isOrchardError } from '../core/errors.js';
import { fileStamp } from '../core/file-stamp.js';
import { ignoreEvents, type Emit } from '../core/events.js';
import { appPaths, type AppPaths, type OrchardHome } from '../core/home.js';
import { loadRecipe } from '../recipe/load.js';
import { planRecipe } from '../recipe/plan.js';
import { resolveProfile } from '../recipe/resolve-profile.js';
import { purgeUnreferencedBlobs } from '../store/index.js';
import { acquireAppLock } from '../core/app-lock.js';
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
  /** Where the app's outputs/ (its renders) were moved, when it had any. */
  keptOutputs?: string;
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
  let keptOutputs: string | undefined;
  try {
    if (existsSync(state.recipe.file)) {
      try {
        const plan = await planRecipe(await loadRecipe(state.recipe.file), {
          profile: await resolveProfile('host'),
          inputs: state.inputs,
          home: o.home,
        });
        uninstallSteps = await runStepsOnce(plan, plan.scripts.uninstall, o.home, o.emit ?? ignoreEvents, {
          allowUnconfined: state.allowUnconfined === true,
        });
      } catch (err) {
        if (!isOrchardError(err)) throw err;
        warnings.push(`the recipe's uninstall steps did not run: ${err.message}`);
      }
    }
    keptOutputs = await keepOutputs(o.home, app);
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
  return { removed: app.root, uninstallSteps, purged, warnings, ...(keptOutputs ? { keptOutputs } : {}) };
}

/**
 * The app's renders are the user's work, not the app: before the app folder goes, a non-empty
 * outputs/ moves to ORCHARD_HOME/outputs/<id> (same filesystem, so a rename), or <id>-<time> when
 * an earlier uninstall left one there.
 */
async function keepOutputs(home: OrchardHome, app: AppPaths): Promise<string | undefined> {
  const entries = await readdir(app.outputs).catch(() => [] as string[]);
  if (entries.length === 0) return undefined;
  const parent = path.join(home.root, 'outputs');
  await mkdir(parent, { recursive: true });
  let target = path.join(parent, app.id);
  if (existsSync(target)) target = `${target}-${fileStamp()}`;
  await rename(app.outputs, target);
  return target;
}
