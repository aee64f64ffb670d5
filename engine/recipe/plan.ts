import { appPaths, type OrchardHome } from '../core/home.js';
import { detectConfinement, findOnPath, OPT_IN_ONLY_VARIABLES, sandboxVariables } from '../../sandbox/index.js';
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
    requirements: {
      ...resolved.requirements,
      tools: recipe.requires?.tools ?? [],
      accelerators: recipe.requires?.accelerators ?? [],
    },
    paths: { root: app.root, app: app.app, env: app.env, models: app.models, store: o.home.store },
    weights: resolved.weights,
    scripts: resolved.scripts,
    ...(resolved.expectedBackend ? { expectedBackend: resolved.expectedBackend } : {}),
    ...(recipe.model ? { model: recipe.model } : {}),
    ...(resolved.service ? { service: resolved.service } : {}),
    sandboxEnv: sandboxVariables(app, o.home),
    confinement,
    hosts,
    warnings,
  };
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
        ? `${loaded.recipe.name} needs a GPU (${req.accelerators.join(' or ')}); on a CPU-only machine it would be unusably slow, so it is refused.`
        : `${loaded.recipe.name} supports ${req.accelerators.join(', ')}, not ${profile.accelerator}.`,
    );
  }
  const usesMlx = loaded.recipe.model?.engine === 'mlx' || loaded.recipe.service?.engine === 'mlx';
  if (usesMlx && (profile.platform !== 'darwin-arm64' || profile.accelerator !== 'metal')) {
    found.push(`${loaded.recipe.name} runs on MLX, which is Apple-only for Orchard (Apple Silicon with Metal; MLX's CUDA and CPU builds are not offered). On ${profile.platform} with ${profile.accelerator}, install this model's GGUF recipe instead.`);
  }
  if (profile.host) {
    for (const tool of req?.tools ?? []) {
      if (!onPath(tool)) found.push(`"${tool}" is not installed (not found on PATH); install it, then try again.`);
    }
  }
  return found;
}

function onPath(tool: string): boolean {
  return findOnPath(tool, process.env) !== undefined;
}

function describeConfinementFor(profile: Profile): Plan['confinement'] {
  if (profile.os === 'darwin') return { available: true, mechanism: 'sandbox-exec', note: 'run steps write only to the app folder, the store and temp (sandbox-exec profile)' };
  if (profile.os === 'linux') return { available: true, mechanism: 'bwrap', note: 'run steps are confined with bubblewrap when it is installed; otherwise they run unconfined and the plan says so' };
  return { available: false, mechanism: 'none', note: `no confinement on ${profile.os}` };
}
