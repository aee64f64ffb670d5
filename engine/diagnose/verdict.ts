import type { Backend } from '../recipe/recipe.types.gen.js';

/** DESIGN §5: one verdict shape everywhere (CLI --json, API, UI). */
export type Fallback = 'none' | 'partial' | 'full';

export interface Verdict {
  backend: Backend;
  fallback: Fallback;
  offload?: { layers: number; total: number };
  /** The log lines (or probe facts) that decided it, verbatim. */
  evidence: string[];
  advice: string[];
}
