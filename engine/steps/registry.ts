import type { PlannedStep, StepKind } from '../recipe/plan-types.js';
import { envStep } from './env.js';
import { extractStep } from './extract.js';
import { fetchStep } from './fetch.js';
import { gitStep } from './git.js';
import { linkStep } from './link.js';
import { runStep } from './run.js';
import type { StepExecutor, StepOutcome, StepContext } from './step-executor.js';
import { verifyStep } from './verify.js';
import { writeStep } from './write.js';

/** One executor per step kind; the compiler checks that every kind has one. */
const executors: { [K in StepKind]: StepExecutor<K> } = {
  git: gitStep,
  extract: extractStep,
  env: envStep,
  run: runStep,
  write: writeStep,
  fetch: fetchStep,
  link: linkStep,
  verify: verifyStep,
};

export function executorFor(step: PlannedStep): (step: PlannedStep, ctx: StepContext) => Promise<StepOutcome> {
  return executors[step.kind] as (step: PlannedStep, ctx: StepContext) => Promise<StepOutcome>;
}
