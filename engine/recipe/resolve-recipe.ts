import { appPaths, type OrchardHome } from '../core/home.js';
import { evaluateCondition, type ConditionFacts } from './condition.js';
import type { InputValue } from './inputs.js';
import type { PlannedService, PlannedStep, ResolvedWeight, ScriptName } from './plan-types.js';
import type { Profile } from './profile.js';
import type { Backend, Condition, Recipe } from './recipe.types.gen.js';
import { Resolver } from './resolver.js';
import { resolveStep } from './resolve-step.js';
import { templateVariables } from './template-vars.js';

export const SCRIPT_NAMES: readonly ScriptName[] = ['install', 'update', 'start', 'uninstall'];

export interface ResolveRecipeOptions {
  recipe: Recipe;
  recipeDir: string;
  home: OrchardHome;
  profile: Profile;
  inputs: Readonly<Record<string, InputValue>>;
  /** Validation resolves every step and weight, whatever its `when`, so hidden branches are checked too. */
  ignoreConditions: boolean;
}

export interface ResolvedRecipe {
  facts: ConditionFacts;
  weights: ResolvedWeight[];
  scripts: Record<ScriptName, PlannedStep[]>;
  service?: PlannedService;
  expectedBackend?: Backend;
  requirements: { memoryGiB?: number; diskGiB?: number };
  issues: Resolver['issues'];
}

/** Templates, conditions and paths of a whole recipe, for one profile and set of inputs. */
export function resolveRecipe(o: ResolveRecipeOptions): ResolvedRecipe {
  const { recipe, profile } = o;
  const app = appPaths(o.home, recipe.id);
  const facts: ConditionFacts = {
    platform: profile.platform,
    os: profile.os,
    arch: profile.arch,
    accelerator: profile.accelerator,
    inputs: o.inputs,
  };
  const holds = (when: Condition | undefined): boolean => o.ignoreConditions || when === undefined || evaluateCondition(when, facts);
  const roots = { appRoot: app.root, store: o.home.store, recipeDir: o.recipeDir, models: app.models };
  const varsFor = (weights: readonly ResolvedWeight[], withPort: boolean) =>
    templateVariables({ app, home: o.home, recipeDir: o.recipeDir, profile, inputs: o.inputs, weights, withPort });

  // Weights first: their urls and files may use inputs and platform, and steps may use their paths.
  const weightResolver = new Resolver(varsFor([], false), roots);
  const declared = (recipe.weights ?? []).map((w, i): ResolvedWeight => {
    const at = `/weights/${i}`;
    const file = weightResolver.text(w.file, `${at}/file`);
    return {
      id: w.id,
      url: weightResolver.text(w.url, `${at}/url`),
      mirrors: (w.mirrors ?? []).map((m, j) => weightResolver.text(m, `${at}/mirrors/${j}`)),
      path: weightResolver.path(file, 'models', `${at}/file`),
      file,
      ...(w.size !== undefined ? { size: w.size } : {}),
      ...(w.sha256 !== undefined ? { sha256: w.sha256 } : {}),
      pinned: w.sha256 !== undefined && w.size !== undefined,
      ...(w.auth ? { auth: w.auth } : {}),
      ...(w.gated ? { gatedPage: w.gated.page } : {}),
    };
  });
  const activeWeights = declared.filter((_, i) => holds(recipe.weights?.[i]?.when));
  const declaredWeights = new Map(declared.map((w) => [w.id, w]));

  const expectedBackend =
    recipe.verify?.expect.find((e) => e.when === undefined || evaluateCondition(e.when, facts))?.backend ??
    (recipe.verify ? 'unknown' : undefined);

  const resolvers = { plain: new Resolver(varsFor(declared, false), roots), port: new Resolver(varsFor(declared, true), roots) };
  const stepContext = { recipe, app, declaredWeights, activeWeights, expectedBackend: expectedBackend ?? 'unknown', inputs: o.inputs };
  const scripts = Object.fromEntries(
    SCRIPT_NAMES.map((name) => {
      // No script gets {{port}}: start steps run before the supervisor allocates the port.
      const steps = (recipe[name] ?? []).flatMap((step, i) =>
        holds(step.when) ? [resolveStep(step, name, i, resolvers.plain, stepContext)] : [],
      );
      return [name, steps];
    }),
  ) as Record<ScriptName, PlannedStep[]>;

  const service = recipe.service ? resolveService(recipe, resolvers.port) : undefined;

  const variant = recipe.requires?.variants?.find((v) => !o.ignoreConditions && evaluateCondition(v.when, facts));
  const memoryGiB = variant?.memoryGiB ?? recipe.requires?.memoryGiB;
  const diskGiB = variant?.diskGiB ?? recipe.requires?.diskGiB;

  return {
    facts,
    weights: activeWeights,
    scripts,
    ...(service ? { service } : {}),
    ...(expectedBackend ? { expectedBackend } : {}),
    requirements: { ...(memoryGiB !== undefined ? { memoryGiB } : {}), ...(diskGiB !== undefined ? { diskGiB } : {}) },
    issues: [...weightResolver.issues, ...resolvers.plain.issues, ...resolvers.port.issues],
  };
}

/**
 * A service with `cluster: true` runs over cluster hosts when the recipe's `hosts` input names any:
 * the same bundled LLM service arguments, run as `llm-cluster` (docs/cluster.md). Data only: the
 * input is a comma-separated list of host names, checked here.
 */
function clusterHosts(recipe: Recipe, r: Resolver): string {
  const s = recipe.service!;
  if (s.type !== 'llm') {
    r.issue('/service/cluster', `"cluster" is only for services of type "llm", not "${s.type}"`);
    return '';
  }
  if ((s.engine ?? recipe.model?.engine ?? 'gguf') !== 'gguf') {
    r.issue(
      '/service/cluster',
      '"cluster" runs GGUF models with llama.cpp RPC; an MLX model cannot be spread this way yet',
      'Use the GGUF recipe of this model for a cluster.',
    );
    return '';
  }
  const input = recipe.inputs?.['hosts'];
  if (!input || input.type !== 'string') {
    r.issue(
      '/service/cluster',
      'a cluster-capable service needs a string input "hosts" (comma-separated cluster host names, empty for this machine alone)',
      'Add "inputs": { "hosts": { "type": "string", "default": "" } }.',
    );
    return '';
  }
  const hosts = r.text('{{inputs.hosts}}', '/inputs/hosts').trim();
  if (hosts !== '' && !/^[a-z0-9][a-z0-9._-]*(,[a-z0-9][a-z0-9._-]*)*$/.test(hosts)) {
    r.issue(
      '/inputs/hosts',
      `"${hosts}" is not a comma-separated list of cluster host names`,
      'Use the names of `orchard cluster ls`, e.g. studio-2,studio-3.',
    );
    return '';
  }
  return hosts;
}

function resolveService(recipe: Recipe, r: Resolver): PlannedService {
  const s = recipe.service!;
  if (s.type === 'command' && !s.command) r.issue('/service/command', 'a service of type "command" needs "command" (an argv array)');
  if (s.type !== 'command' && s.command)
    r.issue(
      '/service/command',
      `"command" is only for type "command"; type "${s.type}" runs Orchard's bundled service`,
      'Pass extra arguments with "args".',
    );
  if (s.readiness.http === undefined && s.readiness.log === undefined) r.issue('/service/readiness', 'readiness needs "http" or "log"');
  if (s.readiness.log !== undefined) {
    try {
      new RegExp(s.readiness.log);
    } catch {
      r.issue('/service/readiness/log', 'is not a valid regular expression');
    }
  }
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.env ?? {})) if (v !== undefined) env[k] = r.text(v, `/service/env/${k}`);
  const args = (s.args ?? []).map((a, i) => r.text(a, `/service/args/${i}`));
  const hosts = s.cluster ? clusterHosts(recipe, r) : '';
  return {
    type: hosts ? 'llm-cluster' : s.type,
    ...(s.type === 'llm' ? { engine: s.engine ?? recipe.model?.engine ?? 'gguf' } : {}),
    ...(s.command ? { command: s.command.map((a, i) => r.text(a, `/service/command/${i}`)) } : {}),
    args: hosts ? [...args, '--hosts', hosts] : args,
    cwd: r.path(s.cwd ?? 'app', 'app', '/service/cwd'),
    env,
    readiness: {
      ...(s.readiness.http !== undefined ? { http: r.text(s.readiness.http, '/service/readiness/http') } : {}),
      ...(s.readiness.log !== undefined ? { log: s.readiness.log } : {}),
      timeoutMs: (s.readiness.timeout ?? 120) * 1000,
    },
    ...(s.ui !== undefined ? { ui: s.ui } : {}),
    restart: {
      policy: s.restart?.policy ?? 'on-failure',
      maxRestarts: s.restart?.maxRestarts ?? 3,
      backoffMs: s.restart?.backoffMs ?? 1000,
    },
    stopGraceMs: (s.stopGraceSeconds ?? 5) * 1000,
  };
}
