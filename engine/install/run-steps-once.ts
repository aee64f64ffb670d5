import type { Emit } from '../core/events.js';
import { appPaths, type OrchardHome } from '../core/home.js';
import type { Plan, PlannedStep } from '../recipe/plan-types.js';
import { OrchardError } from '../core/errors.js';
import { confinementDisabledByUser } from '../../sandbox/index.js';
import { executeStep } from './execute-step.js';

/** Run steps without a journal (the uninstall script: there is nothing to resume afterwards). */
export async function runStepsOnce(
  plan: Plan,
  steps: readonly PlannedStep[],
  home: OrchardHome,
  emit: Emit,
  o: { allowUnconfined?: boolean } = {},
): Promise<string[]> {
  const unconfined = steps.map((s) => `${s.script}/${s.key}`).filter((k) => plan.unconfined.includes(k));
  if (unconfined.length > 0 && !o.allowUnconfined && !confinementDisabledByUser()) {
    throw new OrchardError('REQUIREMENT', `${unconfined.join(', ')} cannot be confined on this machine (${plan.confinement.note})`, {
      where: plan.recipe.file,
      hint: 'Make confinement work (Linux: install bubblewrap), or install the app with --allow-unconfined to accept the risk.',
    });
  }
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
