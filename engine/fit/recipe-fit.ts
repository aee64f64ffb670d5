import { OrchardError } from '../core/errors.js';
import type { MachineInfo } from '../hardware/machine-info.js';
import type { Plan, ResolvedWeight } from '../recipe/plan-types.js';
import { DEFAULT_CONTEXT } from './llm-defaults.js';
import { fitModelOnMachine, gib, type FitReport } from './fit-verdict.js';
import { readModelShape } from './model-headers.js';
import { isHubHost } from '../core/hub-auth.js';
import { fitMlxOnMachine, readMlxModelShape } from './mlx-fit.js';

export interface RecipeFitOptions {
  /** Overrides the recipe's --context. */
  contextSize?: number;
  /** HTTP headers for reading a gated model's header (e.g. authorization). */
  headers?: Record<string, string>;
}

/**
 * The fit check an installer runs before fetching an LLM recipe's weights: reads only the GGUF
 * header(s) of the model the service will load (over HTTP Range) and returns the verdict for
 * this machine; undefined when the plan has no LLM service or no GGUF weight.
 */
export async function checkRecipeFit(plan: Plan, machine: MachineInfo, o: RecipeFitOptions = {}): Promise<FitReport | undefined> {
  if (plan.model?.engine === 'mlx' && plan.model.repo) {
    const shape = await readMlxModelShape(plan.model.repo, {
      ...(plan.model.revision ? { revision: plan.model.revision } : {}),
      ...(o.headers ? { headers: o.headers } : {}),
    });
    const input = plan.inputs['context'];
    const asked = Number(input);
    const contextSize = o.contextSize ?? (Number.isInteger(asked) && asked > 0 ? asked : Math.min(shape.trainContext, 8192));
    return fitMlxOnMachine(shape, machine, contextSize);
  }
  if (plan.service?.type !== 'llm') return undefined;
  const weight = modelWeight(plan);
  if (!weight) return undefined;
  const args = plan.service.args;
  const headers = weight.auth === 'huggingface' ? tokenHeadersFor(weight.url, o.headers) : undefined;
  const shape = await readModelShape(weight.url, { ...(headers ? { headers } : {}) });
  const contextSize = o.contextSize ?? argNumber(args, '--context') ?? Math.min(shape.trainContext, DEFAULT_CONTEXT);
  const parallel = argNumber(args, '--parallel');
  return fitModelOnMachine(shape, machine, { contextSize, gpu: plan.profile.accelerator, ...(parallel ? { parallel } : {}) });
}

/**
 * The token's headers go only over https to a hub host (like the downloader: store/http-client);
 * a recipe can point a weight anywhere, and only gated (`auth`) weights may carry them at all.
 */
export function tokenHeadersFor(url: string, headers: Record<string, string> | undefined): Record<string, string> | undefined {
  try {
    const u = new URL(url);
    return headers && u.protocol === 'https:' && isHubHost(u) ? headers : undefined;
  } catch {
    return undefined;
  }
}

/** Refuse an install that does not fit, unless the user overrides (`--force` / "install anyway"). */
export function assertRecipeFits(report: FitReport | undefined, o: { force?: boolean } = {}): void {
  if (report?.verdict !== 'does-not-fit' || o.force) return;
  throw new OrchardError(
    'REQUIREMENT',
    `the model does not fit this machine: it needs ${gib(report.bytes.total)} at a context of ${report.contextSize}`,
    {
      where: 'orchard fit',
      hint: `${report.advice.join(' ')} To install anyway, pass --force.`,
    },
  );
}

/** The weight the service loads: the one named by --model, or the first part of a split model. */
export function modelWeight(plan: Plan): ResolvedWeight | undefined {
  const ggufs = plan.weights.filter((w) => w.file.endsWith('.gguf'));
  const modelArg = argValue(plan.service?.args ?? [], '--model');
  const isFirst = (w: ResolvedWeight) => !/-\d{5}-of-\d{5}\.gguf$/.test(w.file) || /-00001-of-\d{5}\.gguf$/.test(w.file);
  if (modelArg) {
    const exact = ggufs.find((w) => w.path === modelArg);
    if (exact) return exact;
    const inside = ggufs.find((w) => isFirst(w) && w.path.startsWith(`${modelArg.replace(/\/+$/, '')}/`));
    if (inside) return inside;
  }
  return ggufs.find(isFirst);
}

function argValue(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i >= 0) return args[i + 1];
  return args.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

function argNumber(args: readonly string[], name: string): number | undefined {
  const v = argValue(args, name);
  const n = v === undefined ? NaN : Number(v);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
