import type { Backend } from '../recipe/recipe.types.gen.js';
import { createLiveDiagnoser } from './live.js';
import type { Verdict } from './verdict.js';

/** Diagnose a whole log at once (the same engine the live diagnoser uses, fed every line). */
export function diagnoseLog(text: string, options: { expect?: Backend } = {}): Verdict {
  const live = createLiveDiagnoser(options.expect ? { expect: options.expect } : {});
  for (const line of text.split(/\r\n|\n|\r/)) live.push(line);
  return live.verdict();
}
