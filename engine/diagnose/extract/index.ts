import type { Fact, Family, Pattern, StatefulExtractor, StatefulFactory } from '../facts.js';
import { devicePatterns } from './devices.js';
import { errorPatterns } from './errors.js';
import { flagPatterns } from './flags.js';
import { listingPatterns } from './listings.js';
import { ollamaPlanExtractor, placementPatterns } from './placement.js';

/**
 * The fact extractors, by what they read: devices announced or initialised, device errors,
 * buffers and layers placed, listing tables, command-line flags. All run on every line — one log
 * mixes families (Ollama embeds llama.cpp, ComfyUI prints PyTorch warnings).
 */
export const patterns: readonly Pattern[] = [
  ...devicePatterns,
  ...errorPatterns,
  ...placementPatterns,
  ...listingPatterns,
  ...flagPatterns,
];
export const statefulFactories: readonly StatefulFactory[] = [ollamaPlanExtractor];

/** A pattern stays on unless every family that taught it is held out. */
export function isEnabled(from: readonly Family[], heldOut: ReadonlySet<Family> | undefined): boolean {
  return !heldOut || from.some((f) => !heldOut.has(f));
}

interface Compiled {
  hints: readonly string[];
  pattern: Pattern;
}

/** One scanner per diagnosis: the enabled patterns plus fresh stateful extractors. */
export function createScanner(heldOut?: ReadonlySet<Family>): (line: string) => Fact[] {
  const compiled: Compiled[] = patterns
    .filter((p) => isEnabled(p.from, heldOut))
    .map((p) => ({ pattern: p, hints: p.hint === undefined ? [] : typeof p.hint === 'string' ? [p.hint] : [...p.hint] }));
  const stateful: StatefulExtractor[] = statefulFactories.map((make) => make()).filter((s) => isEnabled(s.from, heldOut));
  return (line) => {
    const lower = line.toLowerCase();
    const facts: Fact[] = [];
    for (const { pattern, hints } of compiled) {
      if (hints.length > 0 && !hints.some((h) => lower.includes(h))) continue;
      const m = pattern.re.exec(line);
      if (m) facts.push(...pattern.produce(m, line));
    }
    for (const s of stateful) facts.push(...s.scan(line, lower));
    return facts;
  };
}
