import type { Backend } from '../recipe/recipe.types.gen.js';

/** A GPU backend (everything a verdict can name except cpu and unknown). */
export type GpuBackend = Exclude<Backend, 'cpu' | 'unknown'>;

export function isGpuBackend(b: Backend | undefined): b is GpuBackend {
  return b === 'metal' || b === 'cuda' || b === 'vulkan' || b === 'rocm';
}

/**
 * What one log line proves. Rules turn lines into facts; `decide` turns facts into a verdict.
 * Each fact keeps its line so the verdict can quote it as evidence.
 */
export type Fact =
  /** A GPU backend initialised or holds buffers (it is there and in use unless other facts say otherwise). */
  | { kind: 'gpu'; backend: GpuBackend; line: string }
  /** Something runs on a GPU, but the line does not say which kind (e.g. `ollama ps` "100% GPU"). */
  | { kind: 'gpu-generic'; line: string }
  /** A GPU exists or the program was built for one, whether or not it is used. */
  | { kind: 'gpu-present'; backend?: GpuBackend; line: string }
  /** The program asked for a GPU (e.g. --gpu-layers, OLLAMA_LLM_LIBRARY=metal). */
  | { kind: 'gpu-wanted'; backend?: GpuBackend; line: string }
  /**
   * The work runs on the CPU. `wanted`: the line itself shows a GPU was asked for or built in
   * (e.g. "Torch not compiled with CUDA enabled"); `strong`: it overrides an earlier placement plan.
   */
  | { kind: 'cpu'; wanted: boolean; strong?: boolean; line: string; advice?: string }
  /** Some layers, operators or modules run on the CPU next to a GPU. */
  | { kind: 'partial'; backend?: GpuBackend; line: string; advice?: string }
  /** Layer placement. `planned`: a scheduler's plan (Ollama), not the loader's report. */
  | { kind: 'offload'; layers: number; total: number; planned?: boolean; line: string };

/** A rule reads one line at a time; it may keep state across lines (created per diagnosis). */
export interface Rule {
  readonly family: string;
  scan(line: string): Fact[];
}

export type RuleFactory = () => Rule;
