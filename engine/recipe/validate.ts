import { resolveHome } from '../core/home.js';
import { conditionInputs } from './condition.js';
import { inputSpecIssues } from './inputs.js';
import { makeProfile } from './profile.js';
import type { Condition, Recipe } from './recipe.types.gen.js';
import { resolveRecipe, SCRIPT_NAMES } from './resolve-recipe.js';
import { dedupeIssues, issuesFromSchemaErrors, type RecipeIssue } from './schema-errors.js';
import { schemaValidator } from './schema.js';

export type { RecipeIssue } from './schema-errors.js';
export type ValidationResult = { ok: true; recipe: Recipe } | { ok: false; errors: RecipeIssue[] };

/**
 * Schema first (every error, ajv allErrors), then what a schema cannot say: duplicate ids,
 * references to undeclared inputs and weights, unknown template variables, paths that escape the
 * app folder, shell strings without `shell: true`. Hidden branches (`when`) are checked too.
 */
export function validateRecipe(value: unknown): ValidationResult {
  const validate = schemaValidator();
  if (!validate(value)) {
    // Every problem at once: the template, reference and path checks still run where the shape allows.
    const schemaIssues = issuesFromSchemaErrors(validate.errors ?? []);
    return { ok: false, errors: dedupeIssues([...schemaIssues, ...bestEffortSemanticIssues(value)]) };
  }
  const errors = semanticIssues(value);
  return errors.length === 0 ? { ok: true, recipe: value } : { ok: false, errors };
}

/** The semantic checks on a recipe that failed the schema: skipped when its shape is too broken to walk. */
function bestEffortSemanticIssues(value: unknown): RecipeIssue[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  try {
    return semanticIssues(value as Recipe);
  } catch {
    return [];
  }
}

function semanticIssues(recipe: Recipe): RecipeIssue[] {
  const issues: RecipeIssue[] = [...nulIssues(recipe), ...inputSpecIssues(recipe.inputs ?? {})];

  for (const script of SCRIPT_NAMES) {
    issues.push(
      ...duplicates(
        (recipe[script] ?? []).map((s) => s.id),
        `/${script}`,
        'step id',
      ),
    );
  }
  issues.push(
    ...duplicates(
      (recipe.weights ?? []).map((w) => w.id),
      '/weights',
      'weight id',
    ),
  );

  for (const { cond, pointer } of allConditions(recipe)) {
    for (const ref of conditionInputs(cond, pointer)) {
      const spec = recipe.inputs?.[ref.name];
      if (!spec) {
        issues.push({ pointer: ref.pointer, message: `condition on unknown input "${ref.name}"`, hint: 'Declare it under "inputs".' });
      } else if (spec.choices) {
        const bad = ref.values.filter((v) => !spec.choices!.includes(v));
        if (bad.length > 0)
          issues.push({
            pointer: ref.pointer,
            message: `"${bad.join('", "')}" is not a choice of input "${ref.name}"`,
            hint: `Choices: ${spec.choices.join(', ')}.`,
          });
      }
    }
  }

  // Resolve everything against a placeholder home with the default inputs.
  const defaults = Object.fromEntries(Object.entries(recipe.inputs ?? {}).flatMap(([k, v]) => (v ? [[k, v.default]] : [])));
  const resolved = resolveRecipe({
    recipe,
    recipeDir: '/orchard-recipe-folder',
    home: resolveHome({ ORCHARD_HOME: '/orchard-home' }),
    profile: makeProfile('linux-x64', 'cpu'),
    inputs: defaults,
    ignoreConditions: true,
  });
  issues.push(...resolved.issues);
  return dedupeIssues(issues);
}

/** NUL bytes cut paths and arguments short at the OS boundary: no string in a recipe may hold one. */
function nulIssues(recipe: Recipe): RecipeIssue[] {
  const issues: RecipeIssue[] = [];
  const pending: { value: unknown; pointer: string }[] = [{ value: recipe, pointer: '' }];
  const esc = (k: string): string => k.replace(/~/g, '~0').replace(/\//g, '~1');
  for (let item = pending.pop(); item; item = pending.pop()) {
    const { value, pointer } = item;
    if (typeof value === 'string') {
      if (value.includes('\0'))
        issues.push({ pointer, message: 'contains a NUL byte', hint: 'Remove the \\u0000: no path, argument or text may hold one.' });
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => pending.push({ value: v, pointer: `${pointer}/${i}` }));
    } else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        if (k.includes('\0')) issues.push({ pointer: `${pointer}/${esc(k)}`, message: 'a key contains a NUL byte' });
        pending.push({ value: v, pointer: `${pointer}/${esc(k)}` });
      }
    }
  }
  return issues;
}

function duplicates(ids: readonly (string | undefined)[], base: string, what: string): RecipeIssue[] {
  const first = new Map<string, number>();
  const issues: RecipeIssue[] = [];
  ids.forEach((id, i) => {
    if (id === undefined) return;
    const earlier = first.get(id);
    if (earlier === undefined) first.set(id, i);
    else issues.push({ pointer: `${base}/${i}/id`, message: `duplicate ${what} "${id}" (first at ${base}/${earlier}/id)` });
  });
  return issues;
}

function allConditions(recipe: Recipe): { cond: Condition; pointer: string }[] {
  const found: { cond: Condition; pointer: string }[] = [];
  for (const script of SCRIPT_NAMES) {
    (recipe[script] ?? []).forEach((s, i) => s.when && found.push({ cond: s.when, pointer: `/${script}/${i}/when` }));
  }
  recipe.weights?.forEach((w, i) => w.when && found.push({ cond: w.when, pointer: `/weights/${i}/when` }));
  recipe.requires?.variants?.forEach((v, i) => found.push({ cond: v.when, pointer: `/requires/variants/${i}/when` }));
  recipe.verify?.expect.forEach((e, i) => e.when && found.push({ cond: e.when, pointer: `/verify/expect/${i}/when` }));
  return found;
}
