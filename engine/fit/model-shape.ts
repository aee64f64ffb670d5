import { OrchardError } from '../core/errors.js';
import { numberKey, numberOrMaxKey, stringKey, type GgufHeader } from './gguf-header.js';

/**
 * What memory prediction needs from a model, read from its GGUF header(s). For a split model
 * (`split.count` > 1) pass the headers of every part: weights are summed over all of them.
 */
export interface ModelShape {
  architecture: string;
  name?: string;
  layers: number;
  embedding: number;
  feedForward: number;
  heads: number;
  headsKv: number;
  keyLength: number;
  valueLength: number;
  vocab: number;
  trainContext: number;
  weightsBytes: number;
  parameters: number;
  /** Bytes of the token embedding, which llama.cpp keeps in host memory even on full offload. */
  tokenEmbeddingBytes: number;
  splitCount: number;
  fileType?: number;
}

/**
 * Keys llama.cpp needs for every transformer architecture. Missing `feed_forward_length` or
 * `attention.head_count` makes llama.cpp abort the whole process (GGML_ASSERT), so they are
 * checked here before any file reaches the library.
 */
const REQUIRED = ['context_length', 'embedding_length', 'block_count', 'feed_forward_length', 'attention.head_count'] as const;

export function validateModelHeader(h: GgufHeader): void {
  const fail = (message: string, hint: string): never => {
    throw new OrchardError('MODEL', message, { where: h.where, hint });
  };
  const arch = stringKey(h, 'general.architecture');
  if (!arch) fail('the GGUF header has no general.architecture', 'This is not a usable model file; download it again.');
  const splitNo = numberKey(h, 'split.no') ?? 0;
  if (splitNo !== 0)
    fail(
      `this is part ${splitNo + 1} of a split model, not its first part`,
      'Point at the part whose name ends in -00001-of-000NN.gguf; the others are found beside it.',
    );
  const missing = REQUIRED.filter((k) => numberOrMaxKey(h, `${arch}.${k}`) === undefined);
  if (missing.length > 0) {
    fail(
      `the GGUF header lacks ${missing.map((k) => `${arch}.${k}`).join(', ')}, which llama.cpp needs (it would abort the process)`,
      'The file is corrupt or was converted by a broken tool; get another copy of the model.',
    );
  }
  if (!h.metadata.has('tokenizer.ggml.model') && !h.metadata.has('tokenizer.ggml.tokens')) {
    fail(
      'the GGUF header has no tokenizer (tokenizer.ggml.*)',
      'Use a complete GGUF model file, not an adapter or a vocabulary-less conversion.',
    );
  }
  if (h.tensors.length === 0) fail('the GGUF file has no tensors', 'Download the model again.');
}

export function modelShape(headers: readonly GgufHeader[]): ModelShape {
  const h = headers[0]!;
  validateModelHeader(h);
  const arch = stringKey(h, 'general.architecture')!;
  const k = (key: string): number | undefined => numberOrMaxKey(h, `${arch}.${key}`);
  const embedding = k('embedding_length')!;
  const heads = k('attention.head_count')!;
  const headsKv = k('attention.head_count_kv') ?? heads;
  const headDim = Math.floor(embedding / Math.max(heads, 1));
  const tokens = h.metadata.get('tokenizer.ggml.tokens');
  const vocab = k('vocab_size') ?? (typeof tokens === 'object' ? tokens.length : 0);
  const all = headers.flatMap((p) => p.tensors);
  const embd = all.find((t) => t.name === 'token_embd.weight');
  const name = stringKey(h, 'general.name');
  const fileType = numberKey(h, 'general.file_type');
  return {
    architecture: arch,
    ...(name ? { name } : {}),
    layers: k('block_count')!,
    embedding,
    feedForward: k('feed_forward_length')!,
    heads,
    headsKv,
    keyLength: k('attention.key_length') ?? headDim,
    valueLength: k('attention.value_length') ?? headDim,
    vocab,
    trainContext: k('context_length')!,
    weightsBytes: all.reduce((s, t) => s + t.bytes, 0),
    parameters: all.reduce((s, t) => s + t.dims.reduce((a, b) => a * b, 1), 0),
    tokenEmbeddingBytes: embd?.bytes ?? 0,
    splitCount: numberKey(h, 'split.count') ?? 1,
    ...(fileType !== undefined ? { fileType } : {}),
  };
}
