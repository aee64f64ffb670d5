import { appPaths, type OrchardHome } from '../core/home.js';
import { detectConfinement, findOnPath, OPT_IN_ONLY_VARIABLES, sandboxVariables } from '../../sandbox/index.js';
import { choiceNeeds } from './choice-needs.js';
import { resolveInputs } from './inputs.js';
import { RecipeInvalidError, type LoadedRecipe } from './load.js';
import type { Plan, PlannedStep, StepConfinement } from './plan-types.js';
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
    if (OPT_IN_ONLY_VARIABLES.includes(name))
      warnings.push(`service: opt-in: sets ${name}=${value} (can hide a silent CPU fallback or unsafe weight loading)`);
  }
  for (const step of steps) step.confinement = stepConfinement(step, confinement);
  if (resolved.service)
    resolved.service.confinement = { runs: 'process', confined: confinement.available, mechanism: confinement.mechanism, network: true };
  const unconfined = [
    ...steps.filter((s) => s.confinement?.runs === 'process' && !s.confinement.confined).map((s) => `${s.script}/${s.key}`),
    ...(resolved.service && !confinement.available ? ['service'] : []),
  ];
  if (unconfined.length > 0)
    warnings.push(`not confined: ${unconfined.join(', ')}: ${confinement.note}; installing needs --allow-unconfined`);

  return {
    recipe: { id: recipe.id, name: recipe.name, version: recipe.version, kind: recipe.kind, file: loaded.file, dir: loaded.dir },
    profile: o.profile,
    inputs,
    inputSpecs: Object.fromEntries(Object.entries(recipe.inputs ?? {}).flatMap(([k, v]) => (v ? [[k, v]] : []))),
    choiceNeeds: choiceNeeds(recipe, resolved.facts),
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
    ...(recipe.model ? { model: recipe.model } : {}),
    ...(resolved.service ? { service: resolved.service } : {}),
    sandboxEnv: sandboxVariables(app, o.home),
    confinement,
    unconfined,
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
  const usesMlx = loaded.recipe.model?.engine === 'mlx' || loaded.recipe.service?.engine === 'mlx';
  if (usesMlx && (profile.platform !== 'darwin-arm64' || profile.accelerator !== 'metal')) {
    found.push(
      `${loaded.recipe.name} runs on MLX, which is Apple-only for Orchard (Apple Silicon with Metal; MLX's CUDA and CPU builds ` +
        `are not offered). On ${profile.platform} with ${profile.accelerator}, install this model's GGUF recipe instead.`,
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
  return findOnPath(tool, process.env) !== undefined;
}

/** Which steps start a recipe-driven process, and whether it gets the network. */
export function stepConfinement(step: PlannedStep, c: Plan['confinement']): StepConfinement {
  const proc = (network: boolean): StepConfinement => ({ runs: 'process', confined: c.available, mechanism: c.mechanism, network });
  switch (step.kind) {
    case 'run':
      return proc(step.params.network);
    case 'verify':
      return proc(false);
    case 'git':
      return proc(!isLocalGitSource(step.params.url));
    case 'env':
      // uv may fetch a Python and seed pip; `python3 -m venv` does not need it, but the manager is chosen at install time.
      if (step.params.type === 'python') return proc(true);
      break;
    default:
      break;
  }
  return { runs: 'orchard', confined: true, mechanism: c.mechanism, network: step.kind === 'fetch' };
}

/** A clone source on this machine (a path or file:// URL), which needs no network. */
export function isLocalGitSource(url: string): boolean {
  return url.startsWith('/') || url.startsWith('./') || url.startsWith('../') || url.startsWith('file:');
}

function describeConfinementFor(profile: Profile): Plan['confinement'] {
  if (profile.os === 'darwin')
    return {
      available: true,
      mechanism: 'sandbox-exec',
      note: 'sandbox-exec profile: app folder and temp writable; rest of ORCHARD_HOME and the home unreadable',
    };
  if (profile.os === 'linux')
    return {
      available: true,
      mechanism: 'bwrap',
      note: 'bubblewrap, when it is installed and user namespaces work (otherwise installing needs --allow-unconfined)',
    };
  return { available: false, mechanism: 'none', note: `no confinement on ${profile.os}` };
}
