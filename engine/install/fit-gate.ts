import type { Emit } from '../core/events.js';
import { gib } from '../fit/fit-verdict.js';
import { assertRecipeFits, checkRecipeFit } from '../fit/recipe-fit.js';
import { probeMachine } from '../hardware/probe.js';
import type { Plan } from '../recipe/plan-types.js';

/**
 * Before the first byte of an LLM recipe's weights: read only the model's GGUF header and refuse
 * an install that cannot fit this machine at the recipe's context (unless forced). A 200 GB
 * download that could never load is the worst way to find out.
 */
export function fitGate(o: { force: boolean; hfToken?: string; emit: Emit }): (plan: Plan) => Promise<void> {
  return async (plan) => {
    const headers = o.hfToken ? { authorization: `Bearer ${o.hfToken}` } : undefined;
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
