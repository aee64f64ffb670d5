import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { OrchardError, isOrchardError, messageOf } from '../core/errors.js';
import { ignoreEvents, type Emit } from '../core/events.js';
import { appPaths, type AppPaths, type OrchardHome } from '../core/home.js';
import type { Plan, PlannedStep } from '../recipe/plan-types.js';
import { confinementDisabledByUser, ensureAppLayout } from '../../sandbox/index.js';
import type { JsonValue } from '../steps/step-executor.js';
import type { AppState, WeightRef } from './app-state.js';
import { acquireAppLock } from '../core/app-lock.js';
import { executeStep } from './execute-step.js';
import { fitGate } from './fit-gate.js';
import { newAppState, readAppState, writeAppState } from './state-store.js';

export interface InstallOptions {
  home: OrchardHome;
  plan: Plan;
  /** install: run what is not done yet (resume); update: also re-run changed steps, then the update script. */
  operation: 'install' | 'update';
  emit?: Emit;
  signal?: AbortSignal;
  /** Accept a CPU backend where the recipe expects a GPU (remembered in the state). */
  allowCpu?: boolean;
  /** Install although the plan has blockers (platform, accelerator, tools). */
  force?: boolean;
  hfToken?: string;
  /** Run steps this machine cannot confine (the plan lists them in red). */
  allowUnconfined?: boolean;
  /** Called once before the first download; default: the LLM fit gate (refuses what cannot fit unless forced). */
  beforeDownload?: (plan: Plan) => Promise<void>;
}

export interface InstallResult {
  state: AppState;
  ran: string[];
  skipped: string[];
}

/**
 * Runs a plan's steps through the journal: a step whose hash is unchanged and that finished is
 * skipped, so an interrupted install resumes at the first unfinished step and a changed recipe
 * re-runs only what changed. The state is written atomically before and after every step.
 */
export async function runInstall(o: InstallOptions): Promise<InstallResult> {
  const { plan } = o;
  const emit = o.emit ?? ignoreEvents;
  const blockers = plan.blockers.filter((b) => !(o.allowCpu && b === plan.allowCpuAccepts));
  if (blockers.length > 0 && !o.force) {
    const onlyCpu = blockers.length === 1 && blockers[0] === plan.allowCpuAccepts;
    throw new OrchardError('REQUIREMENT', `${plan.recipe.name} cannot be installed on ${plan.profile.name}: ${blockers.join(' ')}`, {
      where: plan.recipe.file,
      hint: onlyCpu
        ? 'To run it on the CPU anyway (slow), pass --allow-cpu.'
        : 'Install on a machine that meets these needs, or pass --force if you know better.',
    });
  }
  refuseUnconfined(plan, o);
  const app = appPaths(o.home, plan.recipe.id);
  const folderExisted = existsSync(app.root);
  const release = await acquireAppLock(app, o.operation);
  try {
    const existing = await readAppState(app);
    await ensureAppLayout(app);
    const state = prepareState(existing ?? newAppState(plan), plan, o);
    await writeAppState(app, state);

    const steps = [...plan.scripts.install, ...(o.operation === 'update' ? plan.scripts.update : [])];
    const ran: string[] = [];
    const skipped: string[] = [];
    let downloadsChecked = false;
    let started = false;
    const beforeDownload =
      o.beforeDownload ?? fitGate({ home: o.home, force: o.force === true, emit, ...(o.hfToken ? { hfToken: o.hfToken } : {}) });
    try {
      for (const step of steps) {
        const key = `${step.script}:${step.key}`;
        const previous = state.journal[key];
        if (step.script !== 'update' && previous?.status === 'done' && previous.hash === step.hash) {
          emit({ type: 'step', app: app.id, step: key, kind: step.kind, title: step.title, status: 'skipped', message: 'already done' });
          skipped.push(key);
          continue;
        }
        // MLX recipes fetch their weights with a run step (the hub's own downloader), so their fit runs first.
        if ((step.kind === 'fetch' || plan.model?.engine === 'mlx') && !downloadsChecked) {
          await beforeDownload(plan);
          downloadsChecked = true;
        }
        o.signal?.throwIfAborted();
        started = true;
        await runStep(step, key, state, app, o, emit, previous?.outputs);
        ran.push(key);
      }
    } catch (err) {
      // A new app refused before its first step ran (the fit gate, a cancel) leaves no folder behind.
      if (!existing && !folderExisted && !started) {
        await rm(app.root, { recursive: true, force: true });
        throw err;
      }
      // Whatever stopped the install (a step, the fit gate, a cancel) leaves it marked failed, to resume.
      if (state.lifecycle !== 'failed') {
        state.lifecycle = 'failed';
        await writeAppState(app, state);
      }
      throw err;
    }
    state.lifecycle = 'installed';
    await writeAppState(app, state);
    return { state, ran, skipped };
  } finally {
    await release();
  }
}

/** A recipe-driven process that cannot be confined here runs only with the user's explicit consent. */
function refuseUnconfined(plan: Plan, o: InstallOptions): void {
  if (o.allowUnconfined || confinementDisabledByUser()) return;
  const scripts = new Set(['install', ...(o.operation === 'update' ? ['update'] : [])]);
  const steps = plan.unconfined.filter((s) => scripts.has(s.split('/')[0] ?? ''));
  if (steps.length === 0) return;
  throw new OrchardError(
    'REQUIREMENT',
    `${plan.recipe.name} has steps that cannot be confined on this machine: ${steps.join(', ')} (${plan.confinement.note})`,
    {
      where: plan.recipe.file,
      hint:
        'Make confinement work (Linux: install bubblewrap and allow unprivileged user namespaces), or accept the risk with ' +
        '--allow-unconfined.',
    },
  );
}

function prepareState(state: AppState, plan: Plan, o: InstallOptions): AppState {
  state.lifecycle = o.operation === 'install' ? 'installing' : 'updating';
  state.recipe = {
    id: plan.recipe.id,
    name: plan.recipe.name,
    version: plan.recipe.version,
    kind: plan.recipe.kind,
    file: plan.recipe.file,
  };
  state.profile = plan.profile.name;
  state.inputs = { ...plan.inputs };
  if (o.allowCpu) state.allowCpu = true;
  if (o.allowUnconfined) state.allowUnconfined = true;
  // Steps the recipe no longer has are forgotten, so the journal describes this recipe only.
  const live = new Set([...plan.scripts.install, ...plan.scripts.update].map((s) => `${s.script}:${s.key}`));
  for (const key of Object.keys(state.journal)) if (!live.has(key)) delete state.journal[key];
  return state;
}

async function runStep(
  step: PlannedStep,
  key: string,
  state: AppState,
  app: AppPaths,
  o: InstallOptions,
  emit: Emit,
  previousOutputs: Record<string, JsonValue> | undefined,
): Promise<void> {
  const startedAt = Date.now();
  state.journal[key] = {
    script: step.script,
    key: step.key,
    kind: step.kind,
    title: step.title,
    status: 'running',
    hash: step.hash,
    startedAt: new Date(startedAt).toISOString(),
  };
  await writeAppState(app, state);
  emit({ type: 'step', app: app.id, step: key, kind: step.kind, title: step.title, status: 'running' });
  try {
    const outcome = await executeStep(step, {
      home: o.home,
      app,
      plan: o.plan,
      emit,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(previousOutputs ? { previousOutputs } : {}),
      options: { allowCpu: state.allowCpu === true, ...(o.hfToken ? { hfToken: o.hfToken } : {}) },
      recordWeight: weightRecorder(app, state),
    });
    absorbOutputs(state, outcome.outputs);
    state.journal[key] = {
      ...state.journal[key]!,
      status: 'done',
      finishedAt: new Date().toISOString(),
      ...(outcome.outputs ? { outputs: outcome.outputs } : {}),
    };
    await writeAppState(app, state);
    emit({ type: 'step', app: app.id, step: key, kind: step.kind, title: step.title, status: 'done', elapsedMs: Date.now() - startedAt });
  } catch (err) {
    const message = isOrchardError(err) ? err.message : messageOf(err);
    state.journal[key] = {
      ...state.journal[key]!,
      status: 'failed',
      finishedAt: new Date().toISOString(),
      error: isOrchardError(err)
        ? { message, ...(err.where ? { where: err.where } : {}), ...(err.hint ? { hint: err.hint } : {}) }
        : { message },
    };
    state.lifecycle = 'failed';
    await writeAppState(app, state);
    emit({
      type: 'step',
      app: app.id,
      step: key,
      kind: step.kind,
      title: step.title,
      status: 'failed',
      elapsedMs: Date.now() - startedAt,
      message,
    });
    throw err;
  }
}

/** Writes each weight into the state as the fetch step reports it, one state write at a time. */
function weightRecorder(app: AppPaths, state: AppState): (id: string, ref: { [key: string]: JsonValue }) => Promise<void> {
  let writes = Promise.resolve();
  return (id, ref) => {
    state.weights[id] = ref as unknown as WeightRef;
    writes = writes.then(() => writeAppState(app, state));
    return writes;
  };
}

/** Verify records the backend verdict. (Fetch records its weights itself, one by one, through recordWeight.) */
function absorbOutputs(state: AppState, outputs: Record<string, JsonValue> | undefined): void {
  if (!outputs) return;
  const verdict = outputs['verdict'];
  if (verdict && typeof verdict === 'object' && !Array.isArray(verdict)) state.verdict = verdict as unknown as AppState['verdict'] & object;
}
