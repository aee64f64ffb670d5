import { OrchardError, messageOf } from '../core/errors.js';
import type { Emit } from '../core/events.js';
import { gib } from '../fit/fit-verdict.js';
import { assertRecipeFits, checkRecipeFit, modelWeight } from '../fit/recipe-fit.js';
import { clusterFit, formatClusterFit } from '../cluster/cluster-fit.js';
import type { OrchardHome } from '../core/home.js';
import type { MachineInfo } from '../hardware/machine-info.js';
import { probeMachine } from '../hardware/probe.js';
import type { Plan } from '../recipe/plan-types.js';

const GiB = 1024 ** 3;

/**
 * Before the first byte of an LLM recipe's weights: read only the model's GGUF header and refuse
 * an install that cannot fit this machine at the recipe's context (unless forced). A 200 GB
 * download that could never load is the worst way to find out.
 *
 * When the header cannot be read before the download (a server without HTTP Range support, a
 * mirror that refuses partial reads), the gate falls back to what the recipe pins: a model with
 * a pinned size and sha256 in a recipe that declares its memory need is checked against that
 * need. With nothing pinned to go on, --force lets the install go ahead (fit is then unknown).
 */
export function fitGate(o: { home: OrchardHome; force: boolean; hfToken?: string; emit: Emit }): (plan: Plan) => Promise<void> {
  return async (plan) => {
    const headers = o.hfToken ? { authorization: `Bearer ${o.hfToken}` } : undefined;
    if (plan.service?.type === 'llm-cluster') return clusterGate(plan, o, headers);
    const machine = await probeMachine();
    const log = (line: string) => o.emit({ type: 'log', app: plan.recipe.id, stream: 'system', line });
    let report: Awaited<ReturnType<typeof checkRecipeFit>>;
    try {
      report = await checkRecipeFit(plan, machine, headers ? { headers } : {});
    } catch (err) {
      pinnedFit(plan, machine, err, o.force, log);
      return;
    }
    if (!report) return;
    log(
      `fit: ${report.verdict} — needs ${gib(report.bytes.total)} at a context of ${report.contextSize}` +
        `${report.raiseLimit ? `; ${report.raiseLimit.command}` : ''}`,
    );
    assertRecipeFits(report, { force: o.force });
  };
}

/** A cluster app: the per-node fit over its hosts (each node within its own budget), before any download. */
async function clusterGate(
  plan: Plan,
  o: { home: OrchardHome; force: boolean; emit: Emit },
  headers: Record<string, string> | undefined,
): Promise<void> {
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
  for (const line of formatClusterFit(report).split('\n'))
    o.emit({ type: 'log', app: plan.recipe.id, stream: 'system', line: `cluster fit: ${line}` });
  if (!report.fits && !o.force) {
    throw new OrchardError(
      'REQUIREMENT',
      `the model does not fit the cluster ${hosts.join(', ')}: ${report.advice[0] ?? 'a node is over its budget'}`,
      {
        where: 'orchard fit --hosts',
        hint: `${report.advice.slice(1).join(' ')} To install anyway, pass --force.`.trim(),
      },
    );
  }
}

/** The model's header could not be read before the download: judge by the recipe's pinned figures. */
function pinnedFit(plan: Plan, machine: MachineInfo, cause: unknown, force: boolean, log: (line: string) => void): void {
  const weight = modelWeight(plan);
  const memoryGiB = plan.requirements.memoryGiB;
  const pinned = weight !== undefined && weight.size !== undefined && weight.sha256 !== undefined && memoryGiB !== undefined;
  const why = `the model's header could not be read before downloading it (${messageOf(cause)})`;
  if (pinned) {
    const total = machine.memory.totalBytes;
    const fits = memoryGiB * GiB <= total;
    log(
      `fit: ${fits ? 'fits' : 'does-not-fit'} by the recipe's pinned figures — needs ${memoryGiB} GiB, this machine has ` +
        `${gib(total)}; ${why}`,
    );
    if (fits || force) return;
    throw new OrchardError(
      'REQUIREMENT',
      `the model does not fit this machine: the recipe says it needs ${memoryGiB} GiB of memory, this machine has ${gib(total)}`,
      {
        where: plan.recipe.file,
        hint: 'Pick a machine with more memory. To install anyway, pass --force.',
      },
    );
  }
  if (force) {
    log(`fit: unknown — ${why}; installing anyway (--force)`);
    return;
  }
  throw new OrchardError('REQUIREMENT', `cannot tell whether the model fits: ${why}`, {
    where: weight?.url ?? plan.recipe.file,
    hint:
      "Pin the weight's size and sha256 and the recipe's requires.memoryGiB so the fit can be judged without a partial read, " +
      'or pass --force.',
  });
}
