import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { OrchardError } from '../../core/errors.js';
import { appPaths } from '../../core/home.js';
import type { AppState } from '../../install/app-state.js';
import { listLoraRuns, resolveLoraTarget } from '../../install/lora.js';
import { readAppState, requireAppState } from '../../install/state-store.js';
import type { Plan } from '../../recipe/plan-types.js';
import type { ApiContext } from '../api-context.js';
import type { AppSummary, Job, LoraRunsResponse } from '../api-types.js';
import { HttpError } from '../http-errors.js';
import { field } from '../http-io.js';
import { WithStatus } from '../router.js';
import type { Service } from '../../recipe/recipe.types.gen.js';
import { statusOf } from '../service-status.js';
import { resolveProfile } from '../../recipe/resolve-profile.js';
import { appSummary } from '../app-summary.js';
import { runInstall } from '../../install/installer.js';
import { uninstallApp } from '../../install/uninstall.js';
import { findRecipe } from '../../recipe/catalog.js';
import { loadRecipe } from '../../recipe/load.js';
import { isAppId } from '../../recipe/schema.js';
import { planRecipe } from '../../recipe/plan.js';
import { envSetting } from '../../core/env-settings.js';

/** App ids name folders under ORCHARD_HOME/apps: the recipe schema's id rule, nothing else. */
export function checkAppId(id: string): string {
  if (!isAppId(id)) {
    throw new HttpError(400, 'USAGE', `"${id}" is not an app id`, 'App ids are lower-case letters, digits and dashes.', 'path :id');
  }
  return id;
}

export async function listApps(ctx: ApiContext): Promise<{ apps: AppSummary[] }> {
  if (!existsSync(ctx.home.apps)) return { apps: [] };
  const apps: AppSummary[] = [];
  for (const entry of (await readdir(ctx.home.apps, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory()) continue;
    const state = await readAppState(appPaths(ctx.home, entry.name)).catch(() => undefined);
    if (state) apps.push(await summary(ctx, state));
  }
  return { apps };
}

export async function appDetail(ctx: ApiContext, id: string): Promise<AppSummary> {
  return summary(ctx, await requireAppState(ctx.home, checkAppId(id)));
}

async function summary(ctx: ApiContext, state: AppState): Promise<AppSummary> {
  let serviceType: Service['type'] | undefined;
  try {
    serviceType = (await loadRecipe(state.recipe.file)).recipe.service?.type;
  } catch {
    // A recipe that moved or broke: the app is still listed, without a service.
  }
  const live = ctx.verdicts.get(state.id);
  return appSummary(state, {
    service: statusOf(ctx, ctx.supervisor.status(state.id)),
    hasService: serviceType !== undefined,
    ...(serviceType !== undefined ? { serviceType } : {}),
    ...(live ? { verdict: live } : {}),
  });
}

/** The planned steps as the job's initial (pending) step list. */
function pendingSteps(steps: Plan['scripts']['install']): Job['steps'] {
  return steps.map((s) => ({ key: `${s.script}:${s.key}`, kind: s.kind, title: s.title, status: 'pending' as const }));
}

/** Download events name a weight by id; the UI labels its bar with the file name. */
function weightFiles(plan: Plan): Record<string, string> {
  return Object.fromEntries(plan.weights.map((w) => [w.id, w.file]));
}

function hfToken(ctx: ApiContext): { hfToken?: string } {
  const token = ctx.settings.hfToken ?? envSetting('HF_TOKEN');
  return token ? { hfToken: token } : {};
}

/** POST /apps/:id/install: plan now (plan errors answer at once), run as a job. */
export async function install(ctx: ApiContext, id: string, body: Record<string, unknown>): Promise<WithStatus> {
  checkAppId(id);
  const recipeRef = field.string(body, 'recipe') ?? id;
  const inputs = field.stringMap(body, 'inputs') ?? {};
  const allowCpu = field.boolean(body, 'allowCpu');
  const force = field.boolean(body, 'force');
  const allowUnconfined = field.boolean(body, 'allowUnconfined');
  const loaded = await findRecipe(recipeRef, ctx.home);
  if (loaded.recipe.id !== id) {
    throw new OrchardError('USAGE', `the recipe ${loaded.file} is for "${loaded.recipe.id}", not "${id}"`, {
      where: 'body.recipe',
      hint: `POST to /api/v1/apps/${loaded.recipe.id}/install instead.`,
    });
  }
  const plan = await planRecipe(loaded, { profile: await resolveProfile('host'), inputs, home: ctx.home });
  const steps = [...plan.scripts.install];
  const job = ctx.jobs.start(id, 'install', pendingSteps(steps), weightFiles(plan), async (emit, signal) => {
    await runInstall({
      home: ctx.home,
      plan,
      operation: 'install',
      emit,
      signal,
      ...(allowCpu ? { allowCpu } : {}),
      ...(force ? { force } : {}),
      ...(allowUnconfined ? { allowUnconfined } : {}),
      ...hfToken(ctx),
    });
  });
  return new WithStatus(202, { job });
}

/** POST /apps/:id/update: re-plan from the installed recipe with changed inputs. */
export async function update(ctx: ApiContext, id: string, body: Record<string, unknown>): Promise<WithStatus> {
  const state = await requireAppState(ctx.home, checkAppId(id));
  const inputs = { ...state.inputs, ...(field.stringMap(body, 'inputs') ?? {}) };
  const allowCpu = field.boolean(body, 'allowCpu');
  const allowUnconfined = field.boolean(body, 'allowUnconfined');
  const plan = await planRecipe(await loadRecipe(state.recipe.file), {
    profile: await resolveProfile(state.profile),
    inputs,
    home: ctx.home,
  });
  const job = ctx.jobs.start(
    id,
    'update',
    pendingSteps([...plan.scripts.install, ...plan.scripts.update]),
    weightFiles(plan),
    async (emit, signal) => {
      await runInstall({
        home: ctx.home,
        plan,
        operation: 'update',
        emit,
        signal,
        ...(allowCpu ? { allowCpu } : {}),
        ...(allowUnconfined ? { allowUnconfined } : {}),
        ...hfToken(ctx),
      });
    },
  );
  return new WithStatus(202, { job });
}

/** POST /apps/:id/uninstall: stop its service, then remove it (models kept unless purgeModels). */
export async function uninstall(ctx: ApiContext, id: string, body: Record<string, unknown>): Promise<WithStatus> {
  await requireAppState(ctx.home, checkAppId(id));
  const purgeModels = field.boolean(body, 'purgeModels') === true;
  const job = ctx.jobs.start(id, 'uninstall', [], {}, async (emit) => {
    await ctx.supervisor.stop(id);
    const result = await uninstallApp({ home: ctx.home, id, purgeModels, emit });
    for (const warning of result.warnings) emit({ type: 'log', app: id, stream: 'system', line: warning });
    ctx.verdicts.delete(id);
    ctx.metrics.delete(id);
    ctx.throughput.delete(id);
    ctx.uiApps.delete(id);
  });
  return new WithStatus(202, { job });
}

export function getJob(ctx: ApiContext, id: string): Job {
  const job = ctx.jobs.get(id);
  if (!job)
    throw new HttpError(
      404,
      'NOT_FOUND',
      `no job ${id}`,
      'Jobs are kept in memory while the server runs; the last 100 finished ones are kept.',
    );
  return job;
}

/** GET /apps/:id/lora: the LoRA trainings of an MLX app (orchard lora), with their progress points. */
export async function loraRuns(ctx: ApiContext, id: string): Promise<LoraRunsResponse> {
  await requireAppState(ctx.home, id);
  const target = await resolveLoraTarget(ctx.home, id).catch(() => undefined);
  return { runs: target ? await listLoraRuns(target.adaptersRoot) : [] };
}
