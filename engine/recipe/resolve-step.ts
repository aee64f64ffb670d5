import { createHash } from 'node:crypto';
import type { AppPaths } from '../core/home.js';
import { OPT_IN_ONLY_VARIABLES } from '../../sandbox/index.js';
import type { Backend, Recipe, Step } from './recipe.types.gen.js';
import type { ParamsByKind, PlannedStep, ResolvedWeight, ScriptName, StepEffects, StepKind } from './plan-types.js';
import type { Resolver } from './resolver.js';
import { mapStrings, templateRefs } from './template.js';

/** The environment variable that carries input `name` to a shell step: ORCHARD_INPUT_ + the name in upper case. */
export function inputVariableName(name: string): string {
  return `ORCHARD_INPUT_${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
}

const FULL_COMMIT = /^[0-9a-f]{40}$/;
const DEFAULT_TIMEOUT_S: Record<StepKind, number> = {
  git: 1800,
  extract: 1800,
  env: 1800,
  run: 3600,
  write: 60,
  fetch: 7 * 24 * 3600,
  link: 600,
  verify: 600,
};

export interface StepResolution {
  recipe: Recipe;
  app: AppPaths;
  /** Declared weights by id (active or not: a step may only name declared ones). */
  declaredWeights: ReadonlyMap<string, ResolvedWeight>;
  /** Weights whose `when` holds for this profile. */
  activeWeights: readonly ResolvedWeight[];
  expectedBackend: Backend;
  /** The plan's input values: a shell step gets each as ORCHARD_INPUT_<NAME>. */
  inputs: Readonly<Record<string, string | number | boolean>>;
}

/** Resolve one step into its planned form: concrete params, a hash, its visible effects. */
export function resolveStep(step: Step, script: ScriptName, index: number, r: Resolver, ctx: StepResolution): PlannedStep {
  const pointer = `/${script}/${index}`;
  const effects: StepEffects = { folders: [], writes: [], hosts: [], warnings: [] };
  const params = resolveParams(step, pointer, r, ctx, effects);
  const key = step.id ?? `${step.kind}-${index}`;
  return {
    script,
    index,
    key,
    kind: step.kind,
    title: step.title ?? defaultTitle(step),
    pointer,
    params,
    hash: hashParams(step.kind, params),
    timeoutMs: (step.timeout ?? DEFAULT_TIMEOUT_S[step.kind]) * 1000,
    effects,
  } as PlannedStep;
}

function resolveParams(step: Step, pointer: string, r: Resolver, ctx: StepResolution, effects: StepEffects): ParamsByKind[StepKind] {
  switch (step.kind) {
    case 'git': {
      const url = r.text(step.url, `${pointer}/url`);
      const ref = r.text(step.ref, `${pointer}/ref`);
      const dest = r.path(step.dest ?? 'app', 'app', `${pointer}/dest`);
      const pinned = FULL_COMMIT.test(ref);
      effects.folders.push(dest);
      pushHost(effects.hosts, url);
      if (!pinned) effects.warnings.push(`unpinned: git ref "${ref}" of ${url} is a branch or tag, not a commit; the result can change`);
      return { url, ref, pinned, dest, submodules: step.submodules ?? false };
    }
    case 'extract': {
      const archive = r.path(step.archive, 'read', `${pointer}/archive`);
      const dest = r.path(step.dest ?? 'app', 'app', `${pointer}/dest`);
      effects.folders.push(dest);
      return { archive, dest, strip: step.strip ?? 0 };
    }
    case 'env': {
      effects.folders.push(ctx.app.env);
      return { type: step.type, ...(step.python ? { python: step.python } : {}), manager: step.manager ?? 'auto', dir: ctx.app.env };
    }
    case 'run': {
      const shell = step.shell ?? false;
      let argv: string[] | undefined;
      let shellCommand: string | undefined;
      if (typeof step.command === 'string') {
        if (!shell)
          r.issue(
            `${pointer}/command`,
            'a command string needs "shell": true',
            'Write the command as an argv array, e.g. ["python", "-m", "pip", "install", "-r", "requirements.txt"]; shell ' +
              'strings are shown in red in the plan.',
          );
        // Input values are data: pasted into shell text they would run as code (`$(…)`), so they
        // reach a shell only as environment variables.
        for (const ref of safeRefs(step.command)) {
          if (!ref.name.startsWith('inputs.')) continue;
          const variable = inputVariableName(ref.name.slice('inputs.'.length));
          r.issue(
            `${pointer}/command`,
            `${ref.raw} inside a shell command would paste the input's value into shell code`,
            `Use "$${variable}" (quoted) instead: every input reaches a shell step as the environment variable ${variable}.`,
          );
        }
        shellCommand = r.text(step.command, `${pointer}/command`);
        effects.warnings.push(`shell: runs a shell string: ${shellCommand}`);
      } else {
        if (shell)
          r.issue(`${pointer}/shell`, '"shell": true takes a command string, not an argv array', 'Drop "shell" to run the argv directly.');
        argv = step.command.map((arg, i) => r.text(arg, `${pointer}/command/${i}`));
      }
      const cwd = r.path(step.cwd ?? 'app', 'app', `${pointer}/cwd`);
      const env: Record<string, string> = {};
      if (shell) for (const [name, value] of Object.entries(ctx.inputs)) env[inputVariableName(name)] = String(value);
      for (const [name, value] of Object.entries(step.env ?? {})) {
        if (value === undefined) continue;
        if (name.startsWith('ORCHARD_INPUT_')) {
          r.issue(`${pointer}/env/${name}`, `${name} is reserved for the recipe's inputs`, 'Pick another variable name.');
          continue;
        }
        env[name] = r.text(value, `${pointer}/env/${name}`);
        if (OPT_IN_ONLY_VARIABLES.includes(name)) {
          effects.warnings.push(`opt-in: sets ${name}=${env[name]} (can hide a silent CPU fallback or unsafe weight loading)`);
        }
      }
      const hosts = (step.hosts ?? []).map((h, i) => r.text(h, `${pointer}/hosts/${i}`));
      effects.hosts.push(...hosts);
      if (hosts.length > 0 && step.network !== true) {
        effects.warnings.push(
          `no network: the step lists hosts (${hosts.join(', ')}) but does not declare "network": true, so it runs without the network`,
        );
      }
      return {
        ...(argv ? { argv } : {}),
        ...(shellCommand !== undefined ? { shellCommand } : {}),
        shell,
        cwd,
        env,
        useEnv: step.useEnv ?? true,
        network: step.network ?? false,
        hosts,
      };
    }
    case 'write': {
      const path = r.path(step.path, 'app', `${pointer}/path`);
      if (step.content !== undefined && step.json !== undefined)
        r.issue(`${pointer}/json`, 'a write step takes "content" or "json", not both');
      if (step.content === undefined && step.json === undefined) r.issue(pointer, 'a write step needs "content" or "json"');
      const content =
        step.content !== undefined
          ? r.text(step.content, `${pointer}/content`)
          : `${JSON.stringify(
              mapStrings(step.json ?? {}, (s, p) => r.text(s, `${pointer}/json${p}`)),
              null,
              2,
            )}\n`;
      effects.writes.push(path);
      return { path, content, mode: step.mode ? parseInt(step.mode, 8) : 0o644 };
    }
    case 'fetch': {
      const weights = step.weights
        ? step.weights.flatMap((id, i) => {
            const w = ctx.declaredWeights.get(id);
            if (!w) r.issue(`${pointer}/weights/${i}`, `unknown weight "${id}"`, 'Declare it under "weights" first.');
            return w && ctx.activeWeights.includes(w) ? [w] : [];
          })
        : [...ctx.activeWeights];
      for (const w of weights) {
        pushHost(effects.hosts, w.url);
        w.mirrors.forEach((m) => pushHost(effects.hosts, m));
        if (!w.pinned)
          effects.warnings.push(
            `unpinned: weight "${w.id}" has no recorded sha256/size; they are taken from the hub's metadata at download time`,
          );
      }
      return { weights };
    }
    case 'link': {
      const w = ctx.declaredWeights.get(step.weight);
      if (!w) r.issue(`${pointer}/weight`, `unknown weight "${step.weight}"`, 'Declare it under "weights" first.');
      const to = step.to !== undefined ? r.path(step.to, 'app', `${pointer}/to`) : (w?.path ?? ctx.app.models);
      effects.writes.push(to);
      return { weight: w ?? placeholderWeight(step.weight, to), to };
    }
    case 'verify': {
      const verify = ctx.recipe.verify;
      if (!verify) {
        r.issue(pointer, 'a verify step needs a top-level "verify" section', 'Add "verify": { "probe": {...}, "expect": [...] }.');
        return { probe: { type: 'command' }, expect: 'unknown' };
      }
      const probe = { ...verify.probe };
      if (probe.model !== undefined) probe.model = r.path(probe.model, 'read', '/verify/probe/model');
      if (probe.binary !== undefined) probe.binary = r.path(probe.binary, 'read', '/verify/probe/binary');
      if (probe.command !== undefined) {
        const [first, ...rest] = probe.command.map((a, i) => r.text(a, `/verify/probe/command/${i}`));
        probe.command = [first ?? '', ...rest];
      }
      return { probe, expect: ctx.expectedBackend };
    }
  }
}

/** The template references of a string, or none when it is malformed (the resolver reports that). */
function safeRefs(text: string): ReturnType<typeof templateRefs> {
  try {
    return templateRefs(text, '');
  } catch {
    return [];
  }
}

function defaultTitle(step: Step): string {
  switch (step.kind) {
    case 'git':
      return `Clone ${step.url}`;
    case 'extract':
      return `Extract ${step.archive}`;
    case 'env':
      return step.type === 'none' ? 'No environment' : `Create ${step.type} environment`;
    case 'run':
      return `Run ${typeof step.command === 'string' ? step.command : step.command.join(' ')}`;
    case 'write':
      return `Write ${step.path}`;
    case 'fetch':
      return step.weights ? `Download ${step.weights.join(', ')}` : 'Download weights';
    case 'link':
      return `Link ${step.weight}`;
    case 'verify':
      return 'Verify the GPU backend';
  }
}

function placeholderWeight(id: string, path: string): ResolvedWeight {
  return { id, url: '', mirrors: [], path, file: '', pinned: false };
}

function pushHost(hosts: string[], url: string): void {
  try {
    const host = new URL(url).host;
    if (host && !hosts.includes(host)) hosts.push(host);
  } catch {
    // local paths (tests, file clones) contact no host
  }
}

/** Canonical JSON (sorted keys) so the hash does not depend on key order. */
export function hashParams(kind: string, params: unknown): string {
  return createHash('sha256').update(canonicalJson({ kind, params })).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
