import type { Verdict } from '../diagnose/verdict.js';
import type { ScriptName } from '../recipe/plan-types.js';
import type { JsonValue } from '../steps/step-executor.js';
import type { WeightRef } from '../store/index.js';

/**
 * apps/<id>/state.json: the lifecycle state and the install journal. Written atomically after
 * every change, so a crash leaves the last consistent state and `install` resumes from it.
 */
export type Lifecycle = 'installing' | 'installed' | 'failed' | 'updating' | 'uninstalling';

export interface JournalEntry {
  script: ScriptName;
  key: string;
  kind: string;
  /** The step's title for people ("Download tiny.gguf"), as the plan named it. */
  title?: string;
  status: 'running' | 'done' | 'failed';
  /** Hash of the step's resolved parameters: a different hash means the step must run again. */
  hash: string;
  startedAt: string;
  finishedAt?: string;
  outputs?: Record<string, JsonValue>;
  error?: { message: string; where?: string; hint?: string; log?: string };
}

// The store owns the shape of a weight reference (it counts them for gc); the app state holds them.
export type { WeightRef } from '../store/index.js';
export interface AppState {
  schema: 1;
  id: string;
  recipe: { id: string; name: string; version: string; kind: string; file: string };
  lifecycle: Lifecycle;
  profile: string;
  inputs: Record<string, string | number | boolean>;
  /** Keyed by `<script>:<step key>`. */
  journal: Record<string, JournalEntry>;
  weights: Record<string, WeightRef>;
  verdict?: Verdict;
  /** The user accepted a CPU backend where a GPU was expected (`--allow-cpu`). */
  allowCpu?: boolean;
  /** The user accepted steps this machine cannot confine (`--allow-unconfined`); the service then starts unconfined too. */
  allowUnconfined?: boolean;
  createdAt: string;
  updatedAt: string;
}
