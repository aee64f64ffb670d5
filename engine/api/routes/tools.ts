import type { Plan } from '../../recipe/plan-types.js';
import type { Verdict } from '../../diagnose/verdict.js';
import type { ApiContext } from '../api-context.js';
import { diagnoseLog } from '../../diagnose/diagnose-log.js';
import { fitTarget } from '../../fit/fit-target.js';
import type { FitReport } from '../../fit/fit-verdict.js';
import { doctorReport, type DoctorReport } from '../../hardware/doctor-report.js';
import { probeMachine } from '../../hardware/probe.js';
import { listRecipes } from '../../recipe/catalog.js';
import type { Backend } from '../../recipe/recipe.types.gen.js';
import { resolveProfile } from '../../recipe/resolve-profile.js';
import { HttpError } from '../http-errors.js';
import { field } from '../http-io.js';
import { findRecipe } from '../../recipe/catalog.js';
import { planRecipe } from '../../recipe/plan.js';

/** POST /plan { recipe, profile?, inputs? } → the Plan. */
export async function plan(ctx: ApiContext, body: Record<string, unknown>): Promise<Plan> {
  const recipe = field.string(body, 'recipe', true)!;
  const profile = field.string(body, 'profile') ?? 'host';
  const inputs = field.stringMap(body, 'inputs') ?? {};
  return planRecipe(await findRecipe(recipe, ctx.home), { profile: await resolveProfile(profile), inputs, home: ctx.home });
}

export async function doctor(ctx: ApiContext): Promise<DoctorReport> {
  return doctorReport(await probeMachine(), await listRecipes(ctx.home), ctx.home);
}

/** POST /fit { recipe | model, context? } → the fit JSON of DESIGN §7. */
export async function fit(ctx: ApiContext, body: Record<string, unknown>): Promise<FitReport> {
  const recipe = field.string(body, 'recipe');
  const model = field.string(body, 'model');
  const context = field.number(body, 'context');
  if ((recipe === undefined) === (model === undefined)) throw new HttpError(400, 'USAGE', 'give exactly one of "recipe" or "model"', 'A recipe id or path, or a GGUF file path or URL.', 'body');
  return fitTarget((recipe ?? model)!, {
    machine: await probeMachine(),
    home: ctx.home,
    profile: await resolveProfile('host'),
    ...(context !== undefined ? { contextSize: context } : {}),
    ...(ctx.settings.hfToken ? { hfToken: ctx.settings.hfToken } : {}),
  });
}

/** POST /diagnose { log, expect? } → Verdict. */
export async function diagnose(body: Record<string, unknown>): Promise<Verdict> {
  const log = field.string(body, 'log', true)!;
  const expect = field.string(body, 'expect');
  return diagnoseLog(log, expect === undefined ? {} : { expect: backendOf(expect) });
}

const BACKENDS: readonly Backend[] = ['metal', 'cuda', 'vulkan', 'rocm', 'cpu', 'unknown'];
function backendOf(value: string): Backend {
  const found = BACKENDS.find((b) => b === value);
  if (!found) throw new HttpError(400, 'USAGE', `"expect" must be one of ${BACKENDS.join(', ')}, got "${value}"`, undefined, 'body.expect');
  return found;
}
