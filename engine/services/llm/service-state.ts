import type { LlamaEmbeddingContext } from 'node-llama-cpp';
import type { LoadedLlm } from './load-llm.js';
import type { ServiceMetrics } from '../../openai/metrics.js';
import type { SequencePool } from './sequence-pool.js';

/** Everything a request handler needs, created once at start-up. */
export interface ServiceState {
  llm: LoadedLlm;
  pool: SequencePool;
  metrics: ServiceMetrics;
  /** The id /v1/models lists: the file name without .gguf (and without a split suffix). */
  modelId: string;
  fingerprint: string;
  parallel: number;
  /** Created on the first /v1/embeddings request; one at a time. */
  embedding?: Promise<LlamaEmbeddingContext>;
  embeddingQueue: Promise<unknown>;
}
