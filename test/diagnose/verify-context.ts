import path from 'node:path';
import { appPaths, resolveHome } from '../../engine/core/home.js';
import type { Plan, PlannedStepOf, VerifyParams } from '../../engine/recipe/plan-types.js';
import type { StepContext } from '../../engine/steps/step-executor.js';

/** A real StepContext for the verify executor: temp ORCHARD_HOME, a collecting step log, no plan needed. */
export function verifyContext(root: string, processEnv: Record<string, string>, allowCpu = false): { ctx: StepContext; lines: string[] } {
  const home = resolveHome({ ORCHARD_HOME: path.join(root, 'home') });
  const lines: string[] = [];
  const ctx: StepContext = {
    home,
    app: appPaths(home, 'probe-test'),
    plan: {} as unknown as Plan, // the verify executor never reads the plan
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
