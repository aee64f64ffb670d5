import { existsSync } from 'node:fs';
import { OrchardError } from '../core/errors.js';
import { isGpuBackend } from '../diagnose/facts.js';
import { runVerifyProbe } from '../diagnose/probes/index.js';
import type { Verdict } from '../diagnose/verdict.js';
import { resolveModelPath } from '../fit/model-path.js';
import type { Backend } from '../recipe/recipe.types.gen.js';
import { confineStepCommand } from './confine.js';
import type { JsonValue, StepExecutor } from './step-executor.js';
import { stepWhere } from './step-log.js';

/**
 * The post-install proof: run the recipe's probe inside the app's environment, record the
 * verdict (the installer stores outputs.verdict in AppState.verdict), and end the install red
 * when the expected GPU backend is missing — unless the user accepted a CPU run (--allow-cpu).
 */
export const verifyStep: StepExecutor<'verify'> = async (step, ctx) => {
  const { probe, expect } = step.params;
  ctx.log.line(`probe: ${probe.type}; expected backend: ${expect}`, 'system');
  const cwd = existsSync(ctx.app.app) ? ctx.app.app : undefined;
  let logged = false;
  // An llm probe may name the folder of a quantization (models/<quant>, as the service's --model does):
  // the probe loads its one model file, or the first part of a split one. A folder that does not
  // resolve is passed as it is, and the probe reports why it cannot load it.
  const params =
    probe.type === 'llm' && probe.model !== undefined
      ? { ...step.params, probe: { ...probe, model: await resolveModelPath(probe.model).catch(() => probe.model) } }
      : step.params;
  const verdict = await runVerifyProbe(params, {
    env: ctx.processEnv,
    ...(cwd ? { cwd } : {}),
    // A probe runs what the recipe installed: confined like a run step, without the network.
    wrap: async (argv) => {
      const confined = await confineStepCommand(ctx, 'probe', argv, { network: false, ...(cwd ? { cwd } : {}) });
      if (!logged) ctx.log.line(confined.describe, 'system');
      logged = true;
      return confined.argv;
    },
    timeoutMs: step.timeoutMs,
    signal: ctx.signal,
  });
  if (ctx.signal.aborted) throw new OrchardError('CANCELLED', 'the backend check was cancelled', { where: stepWhere(step) });
  ctx.log.line(
    `verdict: backend ${verdict.backend}, fallback ${verdict.fallback}` +
      `${verdict.offload ? `, ${verdict.offload.layers}/${verdict.offload.total} layers on the GPU` : ''}`,
    'system',
  );
  for (const e of verdict.evidence) ctx.log.line(`evidence: ${e}`, 'system');
  for (const a of verdict.advice) ctx.log.line(`advice: ${a}`, 'system');

  const outputs: Record<string, JsonValue> = { verdict: toJson(verdict) };
  if (meetsExpectation(verdict, expect)) return { outputs };
  if (ctx.options.allowCpu) {
    ctx.log.line(`accepted with --allow-cpu: expected ${expect}, got ${verdict.backend}`, 'system');
    return { outputs: { ...outputs, allowCpu: true } };
  }
  throw new OrchardError('BACKEND', `expected the ${expect} backend, but ${describe(verdict)}: ${verdict.evidence[0] ?? 'no evidence'}`, {
    where: stepWhere(step),
    hint: `${verdict.advice.join(' ')} To accept a CPU run anyway, install again with --allow-cpu.`.trim(),
  });
};

/** A GPU expectation is met when that backend runs (a partial offload still counts, and is recorded). */
export function meetsExpectation(v: Verdict, expect: Backend): boolean {
  if (!isGpuBackend(expect)) return true;
  return v.backend === expect && v.fallback !== 'full';
}

function describe(v: Verdict): string {
  if (v.backend === 'unknown') return 'the probe could not establish any backend';
  if (v.backend === 'cpu') return 'the work runs on the CPU';
  return `it runs on ${v.backend}`;
}

function toJson(v: Verdict): JsonValue {
  return JSON.parse(JSON.stringify(v)) as JsonValue;
}
