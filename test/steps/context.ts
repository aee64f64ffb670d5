import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ProgressEvent } from '../../engine/core/events.js';
import { appPaths, resolveHome, type AppPaths, type OrchardHome } from '../../engine/core/home.js';
import type { ParamsByKind, Plan, PlannedStepOf, StepKind } from '../../engine/recipe/plan-types.js';
import { makeProfile } from '../../engine/recipe/profile.js';
import type { StepContext } from '../../engine/steps/step-executor.js';
import { createStepLog } from '../../engine/steps/step-log.js';
import { detectConfinement } from '../../sandbox/confinement.js';
import { processEnvironment, sandboxVariables } from '../../sandbox/environment.js';
import { ensureAppLayout } from '../../sandbox/layout.js';
import { envBinDir } from '../../sandbox/python-env.js';

/**
 * A hand-made Plan and StepContext for executor tests (the real planner is tested elsewhere):
 * ORCHARD_HOME at `<root>/Orchard Home`, app `<id>` laid out, sandbox environment, a real step log.
 */
export interface TestApp {
  home: OrchardHome;
  app: AppPaths;
  plan: Plan;
  events: ProgressEvent[];
}

export async function makeTestApp(root: string, id = 'test-app'): Promise<TestApp> {
  const home = resolveHome({ ORCHARD_HOME: path.join(root, 'Orchard Home') });
  const app = appPaths(home, id);
  await ensureAppLayout(app);
  const plan: Plan = {
    recipe: { id, name: 'Test app', version: '1.0.0', kind: 'tool', file: path.join(root, 'recipe.json'), dir: root },
    profile: makeProfile('linux-x64', 'cpu', true),
    inputs: {},
    inputSpecs: {},
    blockers: [],
    requirements: { tools: [], accelerators: [] },
    paths: { root: app.root, app: app.app, env: app.env, models: app.models, store: home.store },
    weights: [],
    scripts: { install: [], update: [], start: [], uninstall: [] },
    sandboxEnv: sandboxVariables(app, home),
    confinement: await detectConfinement(),
    unconfined: [],
    hosts: [],
    warnings: [],
  };
  return { home, app, plan, events: [] };
}

export function plannedStep<K extends StepKind>(
  kind: K,
  params: ParamsByKind[K],
  o: { key?: string; timeoutMs?: number } = {},
): PlannedStepOf<K> {
  const key = o.key ?? `${kind}-0`;
  return {
    script: 'install',
    index: 0,
    key,
    kind,
    title: `test ${kind}`,
    pointer: '/install/0',
    params,
    hash: createHash('sha256').update(JSON.stringify(params)).digest('hex'),
    timeoutMs: o.timeoutMs ?? 120_000,
    effects: { folders: [], writes: [], hosts: [], warnings: [] },
  };
}

export async function stepContext(
  t: TestApp,
  key: string,
  o: { signal?: AbortSignal; extraEnv?: Record<string, string> } = {},
): Promise<StepContext> {
  const log = await createStepLog(t.app, 'install', key, (line, stream) =>
    t.events.push({ type: 'log', app: t.app.id, step: key, stream, line }),
  );
  return {
    home: t.home,
    app: t.app,
    plan: t.plan,
    processEnv: processEnvironment(t.plan.sandboxEnv, { envBinDir: envBinDir(t.app), ...(o.extraEnv ? { extra: o.extraEnv } : {}) }),
    log,
    emit: (e) => t.events.push(e),
    signal: o.signal ?? new AbortController().signal,
    options: {},
  };
}

export function runParams(argv: string[], cwd: string, extra: Partial<ParamsByKind['run']> = {}): ParamsByKind['run'] {
  return { argv, shell: false, cwd, env: {}, useEnv: true, network: true, hosts: [], ...extra };
}
