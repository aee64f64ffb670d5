import type { ChoiceNeed } from '../../shared/choice-need.js';
import { conditionInputs, evaluateCondition, type ConditionFacts } from './condition.js';
import type { Condition, Recipe } from './recipe.types.gen.js';

/**
 * What each value of a choice input costs, for the person choosing before anything is installed:
 * the memory and disk need (`requires.variants` decided with that value, the rest of the inputs
 * as they are) and the weights that value selects (their count, and their bytes when every one
 * of them is pinned). Only choice inputs that some variant or weight condition refers to are
 * listed: a choice that changes neither has no cost to show. Derived from the recipe's data,
 * never written per recipe.
 */
export function choiceNeeds(recipe: Recipe, facts: ConditionFacts): Record<string, Record<string, ChoiceNeed>> {
  const variants = recipe.requires?.variants ?? [];
  const weights = recipe.weights ?? [];
  const conditions: Condition[] = [...variants.map((v) => v.when), ...weights.flatMap((w) => (w.when ? [w.when] : []))];
  const referenced = new Set(conditions.flatMap((c) => conditionInputs(c, '').map((r) => r.name)));
  const out: Record<string, Record<string, ChoiceNeed>> = {};
  for (const [name, spec] of Object.entries(recipe.inputs ?? {})) {
    if (spec?.type !== 'choice' || !spec.choices || !referenced.has(name)) continue;
    out[name] = Object.fromEntries(
      spec.choices.map((choice) => {
        const withChoice: ConditionFacts = { ...facts, inputs: { ...facts.inputs, [name]: choice } };
        const variant = variants.find((v) => evaluateCondition(v.when, withChoice));
        const memoryGiB = variant?.memoryGiB ?? recipe.requires?.memoryGiB;
        const diskGiB = variant?.diskGiB ?? recipe.requires?.diskGiB;
        const selected = weights.filter((w) => w.when === undefined || evaluateCondition(w.when, withChoice));
        const sizes = selected.map((w) => w.size);
        const need: ChoiceNeed = {
          weights: selected.length,
          ...(memoryGiB !== undefined ? { memoryGiB } : {}),
          ...(diskGiB !== undefined ? { diskGiB } : {}),
          ...(selected.length > 0 && sizes.every((s) => s !== undefined)
            ? { downloadBytes: sizes.reduce<number>((sum, s) => sum + (s ?? 0), 0) }
            : {}),
        };
        return [choice, need];
      }),
    );
  }
  return out;
}
