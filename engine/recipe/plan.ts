import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { appPaths, type OrchardHome } from '../core/home.js';
import { detectConfinement } from '../../sandbox/confinement.js';
import { OPT_IN_ONLY_VARIABLES, sandboxVariables } from '../../sandbox/environment.js';
import { resolveInputs } from './inputs.js';
import { RecipeInvalidError, type LoadedRecipe } from './load.js';
import type { Plan } from './plan-types.js';
import type { Profile } from './profile.js';
import { resolveRecipe } from './resolve-recipe.js';

export interface PlanOptions {
  profile: Profile;
  inputs?: Readonly<Record<string, string | number | boolean>>;
  home: OrchardHome;
}

/**
 * Resolve a recipe for one profile: every action with concrete values, nothing run. The same object
 * drives `install`, so what the plan shows is what happens.
 */
export async function planRecipe(loaded: LoadedRecipe, o: PlanOptions): Promise<Plan> {
  const { recipe } = loaded;
  const inputs = resolveInputs(recipe.inputs ?? {}, o.inputs ?? {});
  const resolved = resolveRecipe({ recipe, recipeDir: loaded.dir, home: o.home, profile: o.profile, inputs, ignoreConditions: false });
  if (resolved.issues.length > 0) throw new RecipeInvalidError(loaded.file, resolved.issues);

  const app = appPaths(o.home, recipe.id);
  const confinement = o.profile.host ? await detectConfinement() : describeConfinementFor(o.profile);
  const steps = Object.values(resolved.scripts).flat();
  const hosts = [...new Set(steps.flatMap((s) => s.effects.hosts))];
  const warnings = steps.flatMap((s) => s.effects.warnings.map((w) => `${s.script}/${s.key}: ${w}`));
  for (const [name, value] of Object.entries(resolved.service?.env ?? {})) {
    if (OPT_IN_ONLY_VARIABLES.includes(name)) warnings.push(`service: opt-in: sets ${name}=${value} (can hide a silent CPU fallback or unsafe weight loading)`);
  }
  if (!confinement.available) warnings.push(`not confined: ${confinement.note}`);

  return {
    recipe: { id: recipe.id, name: recipe.name, version: recipe.version, kind: recipe.kind, file: loaded.file, dir: loaded.dir },
    profile: o.profile,
    inputs,
    inputSpecs: Object.fromEntries(Object.entries(recipe.inputs ?? {}).flatMap(([k, v]) => (v ? [[k, v]] : []))),
    blockers: blockers(loaded, o.profile),
    ...(cpuBlocker(loaded, o.profile) ? { allowCpuAccepts: cpuBlocker(loaded, o.profile) } : {}),
    requirements: {
      ...resolved.requirements,
      tools: recipe.requires?.tools ?? [],
      accelerators: recipe.requires?.accelerators ?? [],
    },
    paths: { root: app.root, app: app.app, env: app.env, models: app.models, store: o.home.store },
    weights: resolved.weights,
    scripts: resolved.scripts,
    ...(resolved.expectedBackend ? { expectedBackend: resolved.expectedBackend } : {}),
    ...(resolved.service ? { service: resolved.service } : {}),
    sandboxEnv: sandboxVariables(app, o.home),
    confinement,
    hosts,
    warnings,
  };
}

/** The one blocker `--allow-cpu` accepts: a GPU recipe on a CPU-only machine (it runs, slowly). */
function cpuBlocker(loaded: LoadedRecipe, profile: Profile): string | undefined {
  const accelerators = loaded.recipe.requires?.accelerators;
  if (profile.accelerator !== 'cpu' || !accelerators || accelerators.includes('cpu')) return undefined;
  return cpuBlockerText(loaded.recipe.name, accelerators);
}

function cpuBlockerText(name: string, accelerators: readonly string[]): string {
  return `${name} needs a GPU (${accelerators.join(' or ')}); on a CPU-only machine it would be unusably slow, so it is refused.`;
}

/** Why this recipe cannot be installed on this profile; empty when it can. */
function blockers(loaded: LoadedRecipe, profile: Profile): string[] {
  const req = loaded.recipe.requires;
  const found: string[] = [];
  if (req?.platforms && !req.platforms.includes(profile.platform)) {
    found.push(`${loaded.recipe.name} supports ${req.platforms.join(', ')}, not ${profile.platform}.`);
  }
  if (req?.accelerators && !req.accelerators.includes(profile.accelerator)) {
    found.push(
      profile.accelerator === 'cpu'
        ? cpuBlockerText(loaded.recipe.name, req.accelerators)
        : `${loaded.recipe.name} supports ${req.accelerators.join(', ')}, not ${profile.accelerator}.`,
    );
  }
  if (profile.host) {
    for (const tool of req?.tools ?? []) {
      if (!onPath(tool)) found.push(`"${tool}" is not installed (not found on PATH); install it, then try again.`);
    }
  }
  return found;
}

function onPath(tool: string): boolean {
  const dirs = (process.env['PATH'] ?? '').split(path.delimiter).filter(Boolean);
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', tool], { stdio: 'ignore', env: { PATH: dirs.join(path.delimiter) } });
    return true;
  } catch {
    return false;
  }
}

function describeConfinementFor(profile: Profile): Plan['confinement'] {
  if (profile.os === 'darwin') return { available: true, mechanism: 'sandbox-exec', note: 'run steps write only to the app folder, the store and temp (sandbox-exec profile)' };
  if (profile.os === 'linux') return { available: true, mechanism: 'bwrap', note: 'run steps are confined with bubblewrap when it is installed; otherwise they run unconfined and the plan says so' };
  return { available: false, mechanism: 'none', note: `no confinement on ${profile.os}` };
}
