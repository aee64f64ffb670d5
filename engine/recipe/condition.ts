import type { Condition } from './recipe.types.gen.js';

/** The facts a `when` condition is decided on. Conditions are data, never code. */
export interface ConditionFacts {
  platform: string;
  os: string;
  arch: string;
  accelerator: string;
  inputs: Readonly<Record<string, string | number | boolean>>;
}

const asList = <T>(v: T | readonly T[]): readonly T[] => (Array.isArray(v) ? v : [v as T]);

/** All keys present must hold; `any` needs one branch, `not` inverts. */
export function evaluateCondition(cond: Condition, facts: ConditionFacts): boolean {
  if (cond.platform !== undefined && !asList(cond.platform).includes(facts.platform as never)) return false;
  if (cond.os !== undefined && !asList(cond.os).includes(facts.os as never)) return false;
  if (cond.arch !== undefined && !asList(cond.arch).includes(facts.arch as never)) return false;
  if (cond.accelerator !== undefined && !asList(cond.accelerator).includes(facts.accelerator as never)) return false;
  if (cond.input !== undefined) {
    for (const [name, expected] of Object.entries(cond.input)) {
      if (expected === undefined) continue;
      const actual = facts.inputs[name];
      if (!asList(expected).some((v) => String(v) === String(actual))) return false;
    }
  }
  if (cond.all !== undefined && !cond.all.every((c) => evaluateCondition(c, facts))) return false;
  if (cond.any !== undefined && !cond.any.some((c) => evaluateCondition(c, facts))) return false;
  if (cond.not !== undefined && evaluateCondition(cond.not, facts)) return false;
  return true;
}

/** Input names a condition refers to, with the JSON pointer of each reference. */
export function conditionInputs(cond: Condition, pointer: string): { name: string; pointer: string; values: string[] }[] {
  const found: { name: string; pointer: string; values: string[] }[] = [];
  for (const [name, expected] of Object.entries(cond.input ?? {})) {
    if (expected !== undefined) found.push({ name, pointer: `${pointer}/input/${name}`, values: asList(expected).map(String) });
  }
  cond.all?.forEach((c, i) => found.push(...conditionInputs(c, `${pointer}/all/${i}`)));
  cond.any?.forEach((c, i) => found.push(...conditionInputs(c, `${pointer}/any/${i}`)));
  if (cond.not) found.push(...conditionInputs(cond.not, `${pointer}/not`));
  return found;
}
