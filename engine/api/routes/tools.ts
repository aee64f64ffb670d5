import path from 'node:path';
import type { LoadedRecipe } from '../../recipe/load.js';
import type { Plan } from '../../recipe/plan-types.js';
import { requireValidText } from './recipes.js';
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
import { isAppId } from '../../recipe/schema.js';

/**
 * POST /plan { recipe | text, profile?, inputs? } → the Plan. `text` is unsaved editor text: it is
 * validated, then planned in memory as if saved at ORCHARD_HOME/recipes/<id>/recipe.json (so
 * `{{recipe.dir}}` is the folder Save would write to). Nothing is written.
 */
export async function plan(ctx: ApiContext, body: Record<string, unknown>): Promise<Plan> {
  const recipe = field.string(body, 'recipe');
  const text = field.string(body, 'text');
  if ((recipe === undefined) === (text === undefined))
    throw new HttpError(
      400,
      'USAGE',
      'give exactly one of "recipe" or "text"',
      'A recipe id or path, or the recipe JSON text to plan before saving.',
      'body',
    );
  const profile = field.string(body, 'profile') ?? 'host';
  const inputs = field.stringMap(body, 'inputs') ?? {};
  const loaded = text !== undefined ? await recipeFromText(ctx, text) : await findRecipe(recipe!, ctx.home);
  return planRecipe(loaded, { profile: await resolveProfile(profile), inputs, home: ctx.home });
}

async function recipeFromText(ctx: ApiContext, text: string): Promise<LoadedRecipe> {
  const recipe = await requireValidText(text, 'Fix the problems the editor lists, then preview again.');
  // The schema's id rule, checked again before making a path of it (as Save does).
  if (!isAppId(recipe.id)) throw new HttpError(400, 'RECIPE_INVALID', `"${recipe.id}" cannot be a folder name`, undefined, '/id');
  const dir = path.join(ctx.home.userRecipes, recipe.id);
  return { recipe, file: path.join(dir, 'recipe.json'), dir };
}

export async function doctor(ctx: ApiContext): Promise<DoctorReport> {
  return doctorReport(await probeMachine(), await listRecipes(ctx.home), ctx.home);
}

/** POST /fit { recipe | model, context? } → the fit JSON of DESIGN §7. */
export async function fit(ctx: ApiContext, body: Record<string, unknown>): Promise<FitReport> {
  const recipe = field.string(body, 'recipe');
  const model = field.string(body, 'model');
  const context = field.number(body, 'context');
  if ((recipe === undefined) === (model === undefined))
    throw new HttpError(
      400,
      'USAGE',
      'give exactly one of "recipe" or "model"',
      'A recipe id or path, or a GGUF file path or URL.',
      'body',
    );
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
