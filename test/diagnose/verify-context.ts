import path from 'node:path';
import { appPaths, resolveHome } from '../../engine/core/home.js';
import type { Plan, PlannedStepOf, VerifyParams } from '../../engine/recipe/plan-types.js';
import type { StepContext } from '../../engine/steps/step-executor.js';

/** A real StepContext for the verify executor: temp ORCHARD_HOME, a collecting step log, a minimal plan. */
export function verifyContext(root: string, processEnv: Record<string, string>, allowCpu = false): { ctx: StepContext; lines: string[] } {
  const home = resolveHome({ ORCHARD_HOME: path.join(root, 'home') });
  const lines: string[] = [];
  const ctx: StepContext = {
    home,
    app: appPaths(home, 'probe-test'),
    // The verify executor reads only the recipe folder, the weights and the link steps (what its sandbox keeps read-only).
    plan: { recipe: { dir: root }, weights: [], scripts: { install: [], update: [], start: [], uninstall: [] } } as unknown as Plan,
    processEnv,
    log: { file: path.join(root, 'verify.log'), line: (text) => void lines.push(text) },
    emit: () => {},
    signal: new AbortController().signal,
    options: allowCpu ? { allowCpu: true } : {},
  };
  return { ctx, lines };
}

export function verifyStepOf(params: VerifyParams, timeoutMs = 60_000): PlannedStepOf<'verify'> {
  return {
    script: 'install',
    index: 3,
    key: 'verify',
    kind: 'verify',
    title: 'Verify the GPU backend',
    pointer: '/scripts/install/3',
    params,
    hash: 'test',
    timeoutMs,
    effects: { folders: [], writes: [], hosts: [], warnings: [] },
  };
}
