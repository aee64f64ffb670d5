import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { OrchardError } from '../../core/errors.js';
import { findTooDeep, tooDeepMessage } from '../../core/json-depth.js';
import { findSyntaxProblem, locatePointer } from '../../recipe/pointer-location.js';
import type { Recipe } from '../../recipe/recipe.types.gen.js';
import type { ApiContext } from '../api-context.js';
import type { ValidateResponse } from '../api-types.js';
import { field } from '../http-io.js';
import { findRecipe } from '../../recipe/catalog.js';
import { isAppId } from '../../recipe/schema.js';
import { validateRecipe } from '../../recipe/validate.js';

type Validated = { ok: true; recipe: Recipe; response: ValidateResponse } | { ok: false; response: ValidateResponse };

/** Validate recipe text for the editor: syntax errors and schema/semantic errors, each with its line. */
export async function validateText(text: string): Promise<Validated> {
  const deep = findTooDeep(text);
  if (deep)
    return {
      ok: false,
      response: {
        ok: false,
        errors: [{ pointer: deep.pointer, message: tooDeepMessage(deep), hint: 'Recipes are never that deep: flatten it.' }],
      },
    };
  const syntax = findSyntaxProblem(text);
  if (syntax) {
    return {
      ok: false,
      response: {
        ok: false,
        errors: [
          {
            pointer: '',
            message: `invalid JSON: ${syntax.message}`,
            hint: 'Check for a missing comma, quote or bracket near that place.',
            line: syntax.line,
            column: syntax.column,
          },
        ],
      },
    };
  }
  const result = validateRecipe(JSON.parse(text) as unknown);
  if (result.ok) return { ok: true, recipe: result.recipe, response: { ok: true, errors: [] } };
  const errors = result.errors.map((issue) => {
    const at = locatePointer(text, issue.pointer);
    return {
      pointer: issue.pointer,
      message: issue.message,
      ...(issue.hint ? { hint: issue.hint } : {}),
      ...(at ? { line: at.line, column: at.column } : {}),
    };
  });
  return { ok: false, response: { ok: false, errors } };
}

export async function validate(body: Record<string, unknown>): Promise<ValidateResponse> {
  return (await validateText(field.string(body, 'text', true)!)).response;
}

/** The recipe in `text`, or RECIPE_INVALID naming the first problem (where: pointer and line). */
export async function requireValidText(text: string, hint: string): Promise<Recipe> {
  const result = await validateText(text);
  if (result.ok) return result.recipe;
  const first = result.response.errors[0];
  throw new OrchardError(
    'RECIPE_INVALID',
    `the recipe is not valid (${result.response.errors.length} problem${result.response.errors.length === 1 ? '' : 's'}): ` +
      `${first?.message ?? ''}`,
    {
      where: first ? `${first.pointer || '/'}${first.line !== undefined ? ` (line ${first.line}, column ${first.column})` : ''}` : 'recipe',
      hint,
    },
  );
}

/** POST /recipes { text }: validate, then save to ORCHARD_HOME/recipes/<id>/recipe.json. */
export async function save(ctx: ApiContext, body: Record<string, unknown>): Promise<{ id: string; file: string }> {
  const text = field.string(body, 'text', true)!;
  const recipe = await requireValidText(text, 'POST /api/v1/recipes/validate lists every problem; fix them and save again.');
  const id = recipe.id;
  // The schema restricts ids to lower-case letters, digits and dashes; check again before making a path of it.
  if (!isAppId(id)) throw new OrchardError('RECIPE_INVALID', `"${id}" cannot be a folder name`, { where: '/id' });
  const file = path.join(ctx.home.userRecipes, id, 'recipe.json');
  await writeFileAtomic(file, text.endsWith('\n') ? text : `${text}\n`);
  return { id, file };
}

/** GET /recipes/:id: a catalog recipe's text (user recipes win over bundled ones), for the editor. */
export async function readRecipeText(ctx: ApiContext, id: string): Promise<{ id: string; file: string; text: string }> {
  if (!isAppId(id)) throw new OrchardError('USAGE', `"${id}" is not a recipe id`, { where: 'path :id' });
  const loaded = await findRecipe(id, ctx.home);
  return { id: loaded.recipe.id, file: loaded.file, text: await readFile(loaded.file, 'utf8') };
}
