import type { Emit } from '../core/events.js';
import { appPaths, type OrchardHome } from '../core/home.js';
import type { Plan, PlannedStep } from '../recipe/plan-types.js';
import { executeStep } from './execute-step.js';

/** Run steps without a journal (the uninstall script: there is nothing to resume afterwards). */
export async function runStepsOnce(plan: Plan, steps: readonly PlannedStep[], home: OrchardHome, emit: Emit): Promise<string[]> {
  const app = appPaths(home, plan.recipe.id);
  const ran: string[] = [];
  for (const step of steps) {
    const key = `${step.script}:${step.key}`;
    emit({ type: 'step', app: app.id, step: key, kind: step.kind, title: step.title, status: 'running' });
    await executeStep(step, { home, app, plan, emit, options: {} });
    emit({ type: 'step', app: app.id, step: key, kind: step.kind, title: step.title, status: 'done' });
    ran.push(key);
  }
  return ran;
}
