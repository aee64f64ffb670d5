import { OrchardError, isOrchardError, messageOf } from '../core/errors.js';
import type { Emit } from '../core/events.js';
import type { AppPaths, OrchardHome } from '../core/home.js';
import type { Plan, PlannedStep } from '../recipe/plan-types.js';
import { processEnvironment, envBinDir } from '../../sandbox/index.js';
import { createStepLog } from '../steps/step-log.js';
import { executorFor } from '../steps/registry.js';
import type { JsonValue, StepContext, StepOutcome } from '../steps/step-executor.js';

export interface ExecuteStepOptions {
  home: OrchardHome;
  app: AppPaths;
  plan: Plan;
  emit: Emit;
  signal?: AbortSignal;
  previousOutputs?: Record<string, JsonValue>;
  options: StepContext['options'];
  recordWeight?: StepContext['recordWeight'];
}

/**
 * Run one planned step: its own log file, the app's sandboxed environment, its timeout and the
 * caller's cancellation. A failure always names the step, its place in the recipe and its log.
 */
export async function executeStep(step: PlannedStep, o: ExecuteStepOptions): Promise<StepOutcome & { logFile: string }> {
  const key = `${step.script}:${step.key}`;
  const log = await createStepLog(o.app, step.script, step.key, (line, stream) =>
    o.emit({ type: 'log', app: o.app.id, step: key, stream, line }),
  );
  const timeout = AbortSignal.timeout(step.timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  const ctx: StepContext = {
    home: o.home,
    app: o.app,
    plan: o.plan,
    processEnv: processEnvironment(o.plan.sandboxEnv, { envBinDir: envBinDir(o.app) }),
    log,
    emit: o.emit,
    signal,
    ...(o.previousOutputs ? { previousOutputs: o.previousOutputs } : {}),
    options: o.options,
    ...(o.recordWeight ? { recordWeight: o.recordWeight } : {}),
  };
  try {
    const outcome = await executorFor(step)(step, ctx);
    return { ...outcome, logFile: log.file };
  } catch (err) {
    throw describeFailure(err, step, o.plan, log.file, timeout.aborted);
  }
}

function describeFailure(err: unknown, step: PlannedStep, plan: Plan, logFile: string, timedOut: boolean): OrchardError {
  const where = `${plan.recipe.file}:${step.pointer} (${step.kind} step "${step.title}")`;
  if (timedOut) {
    return new OrchardError('STEP_FAILED', `step "${step.title}" timed out after ${Math.round(step.timeoutMs / 1000)} s`, {
      where,
      hint: `See the log: ${logFile}. Raise the step's "timeout" in the recipe if it needs longer; run install again to retry this step.`,
      cause: err,
    });
  }
  if (isOrchardError(err)) {
    if (err.code === 'CANCELLED') return err;
    return new OrchardError(err.code, err.message, {
      where: err.where ? `${where}; ${err.where}` : where,
      hint: `${err.hint ? `${err.hint} ` : ''}Log: ${logFile}. Run install again to resume from this step.`,
      cause: err,
    });
  }
  return new OrchardError('STEP_FAILED', `step "${step.title}" failed: ${messageOf(err)}`, {
    where,
    hint: `Log: ${logFile}. Run install again to resume from this step.`,
    cause: err,
  });
}
