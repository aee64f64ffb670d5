import type { Backend } from '../recipe/recipe.types.gen.js';

/** A GPU backend (everything a verdict can name except cpu and unknown). */
export type GpuBackend = Exclude<Backend, 'cpu' | 'unknown'>;

export function isGpuBackend(b: Backend | undefined): b is GpuBackend {
  return b === 'metal' || b === 'cuda' || b === 'vulkan' || b === 'rocm';
}

/**
 * The tool families of the labelled corpus (test/fixtures/logs/corpus.json). Every extractor
 * pattern names the families whose real log lines taught it; the leave-one-family-out evaluation
 * switches off the patterns taught by the held-out family alone.
 */
export const FAMILIES = [
  'llama.cpp',
  'llama-cpp-python',
  'ollama',
  'lmstudio',
  'koboldcpp',
  'llamafile',
  'gpustack',
  'vllm',
  'pytorch',
  'comfyui',
  'a1111',
  'invokeai',
  'diffusers',
  'sd.cpp',
  'mlx',
  'wan2gp',
] as const;
export type Family = (typeof FAMILIES)[number];

/**
 * Why a GPU could not be used. Advice follows the cause: a driver problem is not fixed by asking
 * for more GPU layers.
 */
export type Cause =
  /** The driver or toolkit is missing, too old or cannot see the device ("no CUDA-capable device"). */
  | 'driver'
  /** A CPU-only Python wheel (torch +cpu, "Torch not compiled with CUDA enabled"). */
  | 'cpu-wheel'
  /** A CPU-only build of a native runner (llama.cpp / sd.cpp / Ollama without GPU libraries). */
  | 'cpu-build'
  /** The GPU is there but this build does not support it (gfx target, compute capability, macOS version). */
  | 'unsupported'
  /** The GPU was switched off because the CPU lacks an instruction set the GPU build needs (Ollama without AVX). */
  | 'cpu-features'
  /** Discovery found no GPU at all. */
  | 'none-found'
  /** No layer was asked to go to the GPU (-ngl / gpulayers / num_gpu). */
  | 'layers'
  /** Not enough GPU memory (out of memory, working-set limit, partial offload). */
  | 'memory'
  /** The app was told to use the CPU (--cpu, --always-cpu, --device cpu). */
  | 'flag';

export type Where = GpuBackend | 'gpu' | 'cpu';

/**
 * What one log line proves. Extractors turn lines into facts; `decide` turns facts into a verdict.
 * Each fact keeps its line so the verdict can quote it as evidence.
 */
export type Fact =
  /** A GPU is there (a device was found, a GPU build or wheel is installed) — not proof it did the work. */
  | { kind: 'gpu-present'; backend?: GpuBackend; line: string }
  /**
   * A GPU was initialised for the work or the work ran on it. `weak`: a listing or a side effect
   * (`ollama ps` "100% GPU", busy GPU memory in nvidia-smi) that any line about placement outranks.
   */
  | { kind: 'gpu-used'; backend?: GpuBackend; weak?: boolean; line: string }
  /** A device ran out of memory: proof that the device was in use. */
  | { kind: 'gpu-oom'; backend?: GpuBackend; line: string }
  /**
   * The work runs on the CPU. `declared`: the tool chose its CPU backend or found no GPU, so a CPU
   * run is not a fallback by itself (sd.cpp "Using CPU backend", Ollama "library=cpu").
   */
  | { kind: 'cpu-used'; declared?: boolean; cause?: Cause; line: string }
  /** A GPU cannot be used, and why. `backend`: the one that failed. */
  | { kind: 'gpu-unusable'; backend?: GpuBackend; cause: Cause; line: string }
  /** The app was started so that everything runs on the CPU. */
  | { kind: 'forced-cpu'; line: string }
  /** Some layers, operators or modules run on the CPU next to a GPU. */
  | { kind: 'partial'; backend?: GpuBackend; cause?: Cause; line: string; advice?: string }
  /** A buffer or a layer placed on a device (llama.cpp, Ollama, sd.cpp placement lines). */
  | { kind: 'placement'; where: Where; what: 'weights' | 'kv' | 'compute' | 'output' | 'layer'; line: string }
  /** Layer placement. `planned`: a scheduler's plan (Ollama), not the loader's report. */
  | { kind: 'offload'; layers: number; total: number; planned?: boolean; line: string }
  /** The program asked for a GPU (-ngl 999, gpulayers=33, OLLAMA_LLM_LIBRARY=cuda). */
  | { kind: 'gpu-wanted'; backend?: GpuBackend; line: string }
  /** GPU memory is the limit (a working-set warning, a memory estimate above the budget). */
  | { kind: 'memory-limit'; backend?: GpuBackend; line: string };

export type FactKind = Fact['kind'];

/** What a pattern makes of its match. Return no facts to decline. */
export type Produce = (m: RegExpExecArray, line: string) => Fact[];

/**
 * One extractor pattern. `hint` is a lower-case substring every matching line contains (a cheap
 * filter before the regex); `from` names the families whose real lines taught it.
 */
export interface Pattern {
  readonly id: string;
  /**
   * The families whose corpus excerpts taught it (each must have an excerpt the pattern fires on). Empty only with
   * `untaught`: then the leave-one-family-out run keeps it off for every family.
   */
  readonly from: readonly Family[];
  /** For a pattern no corpus excerpt shows yet: where its vocabulary comes from. */
  readonly untaught?: string;
  readonly hint?: string | readonly string[];
  readonly re: RegExp;
  readonly produce: Produce;
}

/** An extractor with memory across lines (tables, values wrapped over two lines). */
export interface StatefulExtractor {
  readonly id: string;
  readonly from: readonly Family[];
  scan(line: string, lower: string): Fact[];
}

export type StatefulFactory = () => StatefulExtractor;
