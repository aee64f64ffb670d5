import type { Backend } from '../recipe/recipe.types.gen.js';
import type { Family } from './facts.js';
import { createLiveDiagnoser, type LiveOptions } from './live.js';
import type { Verdict } from './verdict.js';

/** Diagnose a whole log at once (the same engine the live diagnoser uses, fed every line). */
export function diagnoseLog(text: string, options: { expect?: Backend; heldOut?: ReadonlySet<Family> } = {}): Verdict {
  const live = createLiveDiagnoser(liveOptions(options));
  for (const line of text.split(/\r\n|\n|\r/)) live.push(line);
  return live.verdict();
}

function liveOptions(options: { expect?: Backend; heldOut?: ReadonlySet<Family> }): LiveOptions {
  const o: LiveOptions = {};
  if (options.expect) o.expect = options.expect;
  if (options.heldOut) o.heldOut = options.heldOut;
  return o;
}
