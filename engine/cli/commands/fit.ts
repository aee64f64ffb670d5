import { InvalidArgumentError, Option, type Command } from 'commander';
import { resolveHome } from '../../core/home.js';
import { gib, type FitReport } from '../../fit/fit-verdict.js';
import { fitTarget } from '../../fit/fit-target.js';
import { probeMachine } from '../../hardware/probe.js';
import type { Accelerator } from '../../recipe/recipe.types.gen.js';
import { resolveProfile } from '../../recipe/resolve-profile.js';
import { action, printJson, printLine } from '../output.js';
import { envSetting } from '../../core/env-settings.js';

const GPUS = ['auto', 'metal', 'cuda', 'vulkan', 'cpu'] as const satisfies readonly (Accelerator | 'auto')[];

export function register(program: Command): void {
  program
    .command('fit <model>')
    .description(
      'Predict whether a model fits this machine: a GGUF file or URL, an MLX repository URL or folder, or an LLM recipe by id or ' +
        'recipe.json path (reads only headers)',
    )
    .option('--context <n>', "context size in tokens (default: the recipe's, else min(model, 4096))", positive('--context'))
    .addOption(new Option('--parallel <n>', 'parallel sequences, each with its own context').default(1).argParser(positive('--parallel')))
    .addOption(new Option('--gpu <backend>', 'the accelerator to plan for').choices(GPUS).default('auto'))
    .option('--hosts <names>', 'plan the model over this machine and these cluster hosts (comma-separated): per-node layers and memory')
    .option('--json', 'print the fit report as JSON')
    .action(
      action(
        async (
          target: string,
          opts: { context?: number; parallel: number; gpu: (typeof GPUS)[number]; hosts?: string; json?: boolean },
        ) => {
          const contextSize = opts.context;
          if (opts.hosts !== undefined) {
            const names = opts.hosts
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean);
            const { clusterFit, formatClusterFit } = await import('../../cluster/cluster-fit.js');
            const report = await clusterFit(target, names, {
              home: resolveHome(),
              machine: await probeMachine(),
              ...(contextSize ? { contextSize } : {}),
            });
            if (opts.json) printJson(report);
            else printLine(formatClusterFit(report));
            if (!report.fits) process.exitCode = 1;
            return;
          }
          const parallel = opts.parallel;
          const gpu = opts.gpu;
          const report = await fitTarget(target, {
            machine: await probeMachine(),
            home: resolveHome(),
            profile: await resolveProfile('host'),
            ...(contextSize ? { contextSize } : {}),
            parallel,
            gpu,
            ...(envSetting('HF_TOKEN') ? { hfToken: envSetting('HF_TOKEN') } : {}),
          });
          if (opts.json) printJson(report);
          else printLine(formatFit(report));
        },
      ),
    );
}

/** A commander argParser for a positive integer (a usage error, exit 2, otherwise). */
function positive(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive integer, not "${value}"`);
    return n;
  };
}

function formatFit(r: FitReport): string {
  const b = r.bytes;
  const lines = [
    `${r.model.name ?? r.model.architecture}: ${(r.model.parameters / 1e9).toFixed(2)} B parameters, ${r.model.bitsPerWeight} ` +
      `bits/weight, ${r.model.layers} layers${r.model.splitCount > 1 ? `, ${r.model.splitCount} files` : ''}`,
    `context ${r.contextSize} on ${r.budget.accelerator}`,
    `memory: weights ${gib(b.weights)} + KV cache ${gib(b.kv)} + compute ${gib(b.compute)} + runtime ${gib(b.overhead)} = ${gib(b.total)}`,
    `budget: RAM ${gib(r.budget.ramBytes)} (${gib(r.budget.reserveBytes)} kept for the OS)` +
      (r.budget.gpuWorkingSetBytes !== undefined ? `, GPU working set ${gib(r.budget.gpuWorkingSetBytes)}` : '') +
      (r.budget.vramBytes !== undefined ? `, VRAM ${gib(r.budget.vramBytes)}` : ''),
    `layers on the GPU: ${r.offload.gpuLayers}/${r.offload.totalLayers}`,
    `verdict: ${r.verdict}`,
  ];
  if (r.raiseLimit) lines.push(`raise the limit: ${r.raiseLimit.command}`, `risk: ${r.raiseLimit.risk}`);
  for (const a of r.advice) lines.push(`- ${a}`);
  if (r.engine) lines.splice(1, 0, `engine: ${r.engine}`);
  for (const alt of r.alternatives ?? []) {
    lines.push(
      alt.error
        ? `other engine: ${alt.engine} (${alt.recipe}): could not check: ${alt.error}`
        : `other engine: ${alt.engine} (${alt.recipe}): ${alt.verdict ?? '?'}, needs ${gib(alt.totalBytes ?? 0)}` +
            `${alt.raiseLimit ? ` after ${alt.raiseLimit}` : ''}`,
    );
  }
  return lines.join('\n');
}
