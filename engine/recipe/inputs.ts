import { OrchardError } from '../core/errors.js';
import type { Input } from './recipe.types.gen.js';
import type { RecipeIssue } from './schema-errors.js';

export type InputValue = string | number | boolean;

/** Problems in the declared inputs themselves (checked by validation). */
export function inputSpecIssues(inputs: Readonly<Record<string, Input | undefined>>): RecipeIssue[] {
  const issues: RecipeIssue[] = [];
  const upper = new Map<string, string>();
  for (const [name, spec] of Object.entries(inputs)) {
    if (!spec) continue;
    const at = `/inputs/${name}`;
    const other = upper.get(name.toUpperCase());
    if (other !== undefined) {
      issues.push({
        pointer: at,
        message: `"${name}" and "${other}" differ only in case`,
        hint: `Both would be the shell variable ORCHARD_INPUT_${name.toUpperCase()}; rename one.`,
      });
    }
    upper.set(name.toUpperCase(), name);
    if (spec.type === 'choice' && !spec.choices) issues.push({ pointer: `${at}/choices`, message: 'a choice input needs "choices"' });
    if (spec.type !== 'choice' && spec.choices) issues.push({ pointer: `${at}/choices`, message: `"choices" is only for type "choice"` });
    const problem = checkValue(spec, spec.default);
    if (problem) issues.push({ pointer: `${at}/default`, message: `default ${problem}` });
    if (spec.pattern !== undefined) {
      try {
        new RegExp(spec.pattern);
      } catch {
        issues.push({ pointer: `${at}/pattern`, message: 'is not a valid regular expression' });
      }
    }
  }
  return issues;
}

/** Why a value does not fit its input, or undefined when it does. */
function checkValue(spec: Input, value: InputValue): string | undefined {
  switch (spec.type) {
    case 'choice':
      return spec.choices && !spec.choices.includes(String(value))
        ? `"${String(value)}" is not one of: ${spec.choices.join(', ')}`
        : undefined;
    case 'number':
      if (typeof value !== 'number' || Number.isNaN(value)) return 'must be a number';
      if (spec.minimum !== undefined && value < spec.minimum) return `must be ≥ ${spec.minimum}`;
      if (spec.maximum !== undefined && value > spec.maximum) return `must be ≤ ${spec.maximum}`;
      return undefined;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      if (spec.pattern !== undefined && !safeTest(spec.pattern, value)) return `must match ${spec.pattern}`;
      return undefined;
  }
}

function safeTest(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern).test(value);
  } catch {
    return true;
  }
}

/** Defaults overridden by what the user gave (`--input k=v`), converted and checked. */
export function resolveInputs(
  specs: Readonly<Record<string, Input | undefined>>,
  given: Readonly<Record<string, string | number | boolean>>,
): Record<string, InputValue> {
  const values: Record<string, InputValue> = {};
  for (const name of Object.keys(given)) {
    if (!specs[name]) {
      const known = Object.keys(specs);
      throw new OrchardError('USAGE', `the recipe has no input "${name}"`, {
        where: `--input ${name}`,
        hint: known.length > 0 ? `Inputs of this recipe: ${known.join(', ')}.` : 'This recipe takes no inputs.',
      });
    }
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (!spec) continue;
    const raw = given[name];
    const value = raw === undefined ? spec.default : convert(spec, raw);
    const problem = checkValue(spec, value);
    if (problem) {
      throw new OrchardError('USAGE', `input "${name}" ${problem}`, {
        where: `--input ${name}=${String(raw)}`,
        hint: spec.choices ? `Choose one of: ${spec.choices.join(', ')}.` : spec.description,
      });
    }
    values[name] = value;
  }
  return values;
}

function convert(spec: Input, raw: string | number | boolean): InputValue {
  if (typeof raw !== 'string') return raw;
  if (spec.type === 'number') return raw.trim() === '' ? Number.NaN : Number(raw);
  if (spec.type === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  return raw;
}
