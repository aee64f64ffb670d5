/** The shapes of a LoRA training's progress (engine/install/lora.ts), shared with the API and the UI. */

export interface LoraPoint {
  iteration: number;
  trainLoss?: number;
  valLoss?: number;
  learningRate?: number;
  tokensPerSec?: number;
  itPerSec?: number;
  peakMemGB?: number;
}

export interface LoraProgress {
  name: string;
  model: string;
  data: string;
  state: 'running' | 'done' | 'failed';
  /** Iterations asked for in total (across resumes). */
  totalIters: number;
  /** The last iteration whose adapter is on disk (resume starts after it). */
  savedIteration: number;
  /** Iterations of this run are reported from 1 by mlx-lm; this many are added (the resumed-from iteration). */
  offset: number;
  points: LoraPoint[];
  checkpoints: { iteration: number; file: string }[];
  trainable?: { percent: number; trainableM: number; totalM: number };
  runs: { started: string; ended?: string; resumedFrom?: number; exit?: string }[];
  estimate?: LoraMemoryEstimate;
  error?: string;
  updated: string;
}

export interface LoraMemoryEstimate {
  weights: number;
  adapterAndOptimizer: number;
  activations: number;
  logits: number;
  overhead: number;
  total: number;
  sequenceTokens: number;
  formula: string;
}
