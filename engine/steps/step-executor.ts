import type { Emit } from '../core/events.js';
import type { AppPaths, OrchardHome } from '../core/home.js';
import type { Plan, PlannedStepOf, StepKind } from '../recipe/plan-types.js';

/** JSON-safe values a step may record in the install journal (e.g. git's resolved commit). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface StepLog {
  /** Absolute path of this step's log file. */
  file: string;
  line(text: string, stream?: 'stdout' | 'stderr' | 'system'): void;
}

export interface StepContext {
  home: OrchardHome;
  app: AppPaths;
  plan: Plan;
  /** The full environment for processes of this app (sandbox variables over a filtered parent env). */
  processEnv: Record<string, string>;
  log: StepLog;
  emit: Emit;
  signal: AbortSignal;
  /** What this step recorded the last time it ran (for resume), if anything. */
  previousOutputs?: Record<string, JsonValue>;
  /** Settings the user gave for this run (e.g. --allow-cpu). */
  options: { allowCpu?: boolean; hfToken?: string };
  /**
   * Record at once, in the app's state, that the app uses this weight (the fetch step calls it
   * for each weight as soon as its blob is in the store). Without it a model downloaded before a
   * later one fails would have no reference, and `store gc` would delete it.
   */
  recordWeight?: (id: string, ref: { [key: string]: JsonValue }) => Promise<void>;
}

export interface StepOutcome {
  outputs?: Record<string, JsonValue>;
}

/**
 * One module per step kind exports an executor. It must be idempotent enough to be re-run after
 * a crash in the middle of it (the journal marks a step done only when this resolves), must
 * honour ctx.signal, and throws OrchardError('STEP_FAILED' | …) with what, where and what to do.
 */
export type StepExecutor<K extends StepKind> = (step: PlannedStepOf<K>, ctx: StepContext) => Promise<StepOutcome>;
