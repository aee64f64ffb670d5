import type { Accelerator } from '../recipe/recipe.types.gen.js';
import type { ModelShape } from './model-shape.js';

/**
 * Memory the LLM service will use for a model, in bytes. Formulas (llama.cpp, as loaded by
 * node-llama-cpp 3.21.1 with its defaults):
 * - weights: the exact sum of the tensors' sizes from the header(s).
 * - kv: layers × cells × (key_length + value_length) × head_count_kv × 2 bytes (f16 cache), with
 *   cells = context padded up to 256, per parallel sequence (node-llama-cpp sizes each sequence to
 *   the full context).
 * - compute: llama.cpp's graph buffers for one micro-batch (512 tokens): 4 bytes × ubatch ×
 *   (vocab + 4·embedding + 4·feed_forward); the logits row of every sequence is added. Calibrated
 *   on llama.cpp's "compute buffer size" log lines (bench/llm), and it errs high for big models.
 * - overhead: the service process without any model (Node, node-llama-cpp, the ggml backend
 *   libraries), measured with the tiny model (bench/llm), plus the GPU runtime's host memory.
 */
export interface MemoryPrediction {
  weights: number;
  kv: number;
  compute: number;
  overhead: number;
  total: number;
  /** The part that must be in GPU memory (or the macOS GPU working set) for a full offload. */
  gpu: number;
  contextSize: number;
  parallel: number;
}

export interface PredictOptions {
  contextSize: number;
  parallel?: number;
  batchSize?: number;
  accelerator: Accelerator;
}

/**
 * Node + node-llama-cpp + ggml CPU backend, once it has run a model: the service's RSS after a
 * prompt longer than one micro-batch, minus weights, KV cache and llama.cpp's reported compute
 * buffer, measured by bench/llm on linux-x64 (105–111 MiB; about 98 of it before any model loads).
 */
export const SERVICE_BASE_BYTES = 108 * 1024 * 1024;
/** Host memory of the GPU runtime itself (driver, kernels), typical figures; Metal's is small. */
const RUNTIME_BYTES: Record<Accelerator, number> = {
  cpu: 0,
  metal: 64 * 1024 * 1024,
  cuda: 512 * 1024 * 1024,
  vulkan: 256 * 1024 * 1024,
  rocm: 512 * 1024 * 1024,
};

export function predictMemory(shape: ModelShape, o: PredictOptions): MemoryPrediction {
  const parallel = Math.max(1, o.parallel ?? 1);
  const cells = Math.ceil(o.contextSize / 256) * 256;
  const kv = shape.layers * cells * (shape.keyLength + shape.valueLength) * shape.headsKv * 2 * parallel;
  const ubatch = Math.min(o.batchSize ?? 512, cells);
  const compute = 4 * ubatch * (shape.vocab + 4 * shape.embedding + 4 * shape.feedForward) + 4 * shape.vocab * parallel;
  const overhead = SERVICE_BASE_BYTES + RUNTIME_BYTES[o.accelerator];
  const weights = shape.weightsBytes;
  const gpu = o.accelerator === 'cpu' ? 0 : weights - shape.tokenEmbeddingBytes + kv + compute;
  return { weights, kv, compute, overhead, total: weights + kv + compute + overhead, gpu, contextSize: o.contextSize, parallel };
}
