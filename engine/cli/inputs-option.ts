import { OrchardError } from '../core/errors.js';

/** `--input` of plan and install: where to see what each value of a choice (a quantization) costs. */
export const INPUT_HELP = 'set a recipe input (repeatable); `orchard plan <recipe>` lists each choice with its download and memory need';

/** Collects repeated `--input key=value` options into a record. */
export function collectInput(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new OrchardError('USAGE', `--input takes key=value, got "${value}"`, { hint: 'Example: --input quant=Q4_K_M' });
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}
