import { appScope, confinedCommand, type ConfinedCommand, type ProcessKind } from '../../sandbox/index.js';
import type { Plan } from '../recipe/plan-types.js';
import type { StepContext } from './step-executor.js';

/**
 * Wrap a recipe-driven command of this step under the confinement contract: the app's scope, its
 * recipe folder read-only, and every weight the plan links into the app read-only wherever it sits.
 */
export function confineStepCommand(
  ctx: Pick<StepContext, 'home' | 'app' | 'plan'>,
  kind: ProcessKind,
  argv: string[],
  o: { network: boolean; cwd?: string; readOnly?: string[] },
): Promise<ConfinedCommand> {
  return confinedCommand(kind, argv, {
    scope: appScope(ctx.home, ctx.app, {
      recipeDir: ctx.plan.recipe.dir,
      readOnlyInApp: linkedWeights(ctx.plan),
      ...(o.readOnly ? { readOnly: o.readOnly } : {}),
    }),
    network: o.network,
    ...(o.cwd ? { cwd: o.cwd } : {}),
  });
}

/** Where the plan puts weights (models/… and any link step's `to`): hardlinks into the store, so read-only. */
export function linkedWeights(plan: Plan): string[] {
  const paths = new Set(plan.weights.map((w) => w.path));
  for (const step of Object.values(plan.scripts).flat()) if (step.kind === 'link') paths.add(step.params.to);
  return [...paths];
}
