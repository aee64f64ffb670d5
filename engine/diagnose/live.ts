import type { Backend } from '../recipe/recipe.types.gen.js';
import { decide } from './decide.js';
import { createScanner } from './extract/index.js';
import type { Fact, Family } from './facts.js';
import type { Verdict } from './verdict.js';

/** Lines longer than this are cut before matching (a base64 blob must not cost a regex scan). */
const MAX_LINE = 4096;
/** Facts kept per kind; older ones of the same kind no longer decide anything. */
const KEEP_PER_KIND = 24;

export interface LiveDiagnoser {
  /** Feed one output line. Cheap when the line matches nothing (the common case). */
  push(line: string): void;
  /** The verdict as of the lines seen so far. */
  verdict(): Verdict;
  /** How many lines were fed. */
  readonly lines: number;
}

export interface LiveOptions {
  expect?: Backend;
  /** Families whose own patterns are switched off (the leave-one-family-out evaluation). */
  heldOut?: ReadonlySet<Family>;
  /** Called when the verdict changes (backend, fallback, offload or evidence), with the new and previous verdicts. */
  onChange?: (verdict: Verdict, previous: Verdict) => void;
}

/**
 * Incremental diagnosis for a running service: the supervisor pushes each output line; the
 * verdict is recomputed only when a line yields a fact, and `onChange` fires when it differs.
 */
export function createLiveDiagnoser(options: LiveOptions = {}): LiveDiagnoser {
  const scan = createScanner(options.heldOut);
  let facts: Fact[] = [];
  let current = decide(facts, options.expect);
  let key = verdictKey(current);
  let lines = 0;

  return {
    get lines() {
      return lines;
    },
    push(raw: string) {
      lines++;
      const line = (raw.length > MAX_LINE ? raw.slice(0, MAX_LINE) : raw).replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
      const fs = scan(line);
      if (fs.length === 0) return;
      facts.push(...fs);
      if (facts.length > KEEP_PER_KIND * 8) facts = compact(facts);
      const next = decide(facts, options.expect);
      const nextKey = verdictKey(next);
      if (nextKey !== key) {
        const previous = current;
        current = next;
        key = nextKey;
        options.onChange?.(next, previous);
      } else {
        current = next;
      }
    },
    verdict: () => current,
  };
}

function verdictKey(v: Verdict): string {
  return JSON.stringify([v.backend, v.fallback, v.offload ?? null, v.evidence]);
}

/** Keep the last KEEP_PER_KIND facts of each kind, in their original order. */
function compact(facts: Fact[]): Fact[] {
  const counts = new Map<string, number>();
  const kept: Fact[] = [];
  for (let i = facts.length - 1; i >= 0; i--) {
    const f = facts[i]!;
    const n = counts.get(f.kind) ?? 0;
    if (n < KEEP_PER_KIND) {
      kept.push(f);
      counts.set(f.kind, n + 1);
    }
  }
  return kept.reverse();
}
