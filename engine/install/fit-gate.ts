import type { Emit } from '../core/events.js';
import { gib } from '../fit/fit-verdict.js';
import { assertRecipeFits, checkRecipeFit, modelWeight } from '../fit/recipe-fit.js';
import { clusterFit, formatClusterFit } from '../cluster/cluster-fit.js';
import { OrchardError } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';
import { probeMachine } from '../hardware/probe.js';
import type { Plan } from '../recipe/plan-types.js';

/**
 * Before the first byte of an LLM recipe's weights: read only the model's GGUF header and refuse
 * an install that cannot fit this machine at the recipe's context (unless forced). A 200 GB
 * download that could never load is the worst way to find out.
 */
export function fitGate(o: { home: OrchardHome; force: boolean; hfToken?: string; emit: Emit }): (plan: Plan) => Promise<void> {
  return async (plan) => {
    const headers = o.hfToken ? { authorization: `Bearer ${o.hfToken}` } : undefined;
    if (plan.service?.type === 'llm-cluster') return clusterGate(plan, o, headers);
    const report = await checkRecipeFit(plan, await probeMachine(), headers ? { headers } : {});
    if (!report) return;
    o.emit({
      type: 'log',
      app: plan.recipe.id,
      stream: 'system',
      line: `fit: ${report.verdict} — needs ${gib(report.bytes.total)} at a context of ${report.contextSize}${report.raiseLimit ? `; ${report.raiseLimit.command}` : ''}`,
    });
    assertRecipeFits(report, { force: o.force });
  };
}

/** A cluster app: the per-node fit over its hosts (each node within its own budget), before any download. */
async function clusterGate(plan: Plan, o: { home: OrchardHome; force: boolean; emit: Emit }, headers: Record<string, string> | undefined): Promise<void> {
  const weight = modelWeight(plan);
  const args = plan.service?.args ?? [];
  const hosts = args[args.indexOf('--hosts') + 1]?.split(',') ?? [];
  if (!weight || hosts.length === 0) return;
  const context = Number(args[args.indexOf('--context') + 1]);
  const report = await clusterFit(weight.url, hosts, {
    home: o.home,
    machine: await probeMachine(),
    ...(Number.isInteger(context) && context > 0 ? { contextSize: context } : {}),
    ...(headers ? { headers } : {}),
  });
  for (const line of formatClusterFit(report).split('\n')) o.emit({ type: 'log', app: plan.recipe.id, stream: 'system', line: `cluster fit: ${line}` });
  if (!report.fits && !o.force) {
    throw new OrchardError('REQUIREMENT', `the model does not fit the cluster ${hosts.join(', ')}: ${report.advice[0] ?? 'a node is over its budget'}`, {
      where: 'orchard fit --hosts',
      hint: `${report.advice.slice(1).join(' ')} To install anyway, pass --force.`.trim(),
    });
  }
}
