import type { Plan } from '../../recipe/plan-types.js';
import type { Verdict } from '../../diagnose/verdict.js';
import type { ApiContext } from '../api-context.js';
import { HttpError } from '../http-errors.js';
import { field } from '../http-io.js';
import { diagnoseLog, doctorReport, fitReport } from '../optional-modules.js';
import { profileFor } from './profiles.js';

/** POST /plan { recipe, profile?, inputs? } → the Plan. */
export async function plan(ctx: ApiContext, body: Record<string, unknown>): Promise<Plan> {
  const recipe = field.string(body, 'recipe', true)!;
  const profile = field.string(body, 'profile') ?? 'host';
  const inputs = field.stringMap(body, 'inputs') ?? {};
  const { findRecipe } = await import('../../recipe/catalog.js');
  const { planRecipe } = await import('../../recipe/plan.js');
  return planRecipe(await findRecipe(recipe, ctx.home), { profile: await profileFor(profile), inputs, home: ctx.home });
}

export async function doctor(ctx: ApiContext): Promise<unknown> {
  return doctorReport(ctx.home);
}

/** POST /fit { recipe | model, context? } → the fit JSON of DESIGN §7. */
export async function fit(ctx: ApiContext, body: Record<string, unknown>): Promise<unknown> {
  const recipe = field.string(body, 'recipe');
  const model = field.string(body, 'model');
  const context = field.number(body, 'context');
  if ((recipe === undefined) === (model === undefined)) throw new HttpError(400, 'USAGE', 'give exactly one of "recipe" or "model"', 'A recipe id or path, or a GGUF file path or URL.', 'body');
  return fitReport({ ...(recipe !== undefined ? { recipe } : {}), ...(model !== undefined ? { model } : {}), ...(context !== undefined ? { context } : {}), home: ctx.home, ...(ctx.settings.hfToken ? { hfToken: ctx.settings.hfToken } : {}) });
}

/** POST /diagnose { log, expect? } → Verdict. */
export async function diagnose(body: Record<string, unknown>): Promise<Verdict> {
  const log = field.string(body, 'log', true)!;
  const expect = field.string(body, 'expect');
  return diagnoseLog(log, expect);
}
