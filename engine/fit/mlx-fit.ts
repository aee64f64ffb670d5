import path from 'node:path';
import { OrchardError } from '../core/errors.js';
import type { MachineInfo } from '../hardware/machine-info.js';
import { isUrl, openByteSource } from './byte-source.js';
import { gib, osReserve, raiseLimitFor, workingSetOf, type FitReport } from './fit-verdict.js';
import { readSafetensorsHeader, type SafetensorsHeader } from './safetensors.js';

/**
 * Exact fit for an MLX model (mlx-lm layout: config.json, model.safetensors or shards listed in
 * model.safetensors.index.json). Everything comes from the repository's own files, read over HTTP
 * Range without downloading weights: config.json (a few KB) and each shard's safetensors header.
 */
export interface MlxModelShape {
  where: string;
  modelType: string;
  layers: number;
  hidden: number;
  intermediate: number;
  heads: number;
  /** Per layer and token, the KV cache mlx-lm keeps: elements of keys + values. */
  kvElementsPerToken: number;
  /** How the KV size was derived, for the report. */
  kvFormula: string;
  vocab: number;
  trainContext: number;
  /** Bytes of every tensor in every shard: quantized weights, their scales and biases, norms, embeddings. */
  weightsBytes: number;
  /** Weights as stored, by dtype (U32 = packed quantized weights). */
  bytesByDtype: Record<string, number>;
  parameters: number;
  bits?: number;
  groupSize?: number;
  /** Bytes per element of activations and the KV cache (the model's float dtype). */
  activationBytes: number;
  shards: string[];
  /** Bytes actually read to learn all this. */
  bytesRead: number;
}

export interface ReadMlxOptions {
  /** For a huggingface.co repository: the revision read (default main). */
  revision?: string;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** A Hugging Face repository URL without /resolve/ (https://huggingface.co/<owner>/<name>). */
export function isHubRepoUrl(value: string): boolean {
  return /^https:\/\/huggingface\.co\/[^/]+\/[^/]+\/?$/.test(value);
}

/** The URL or path of one file of the model. */
export function mlxFileLocation(base: string, file: string, revision = 'main'): string {
  const root = base.replace(/\/+$/, '');
  if (isHubRepoUrl(base)) return `${root}/resolve/${encodeURIComponent(revision)}/${file}`;
  return isUrl(base) ? `${root}/${file}` : path.join(root, file);
}

export async function readMlxModelShape(base: string, o: ReadMlxOptions = {}): Promise<MlxModelShape> {
  const at = (file: string) => mlxFileLocation(base, file, o.revision);
  const src = (file: string) =>
    openByteSource(at(file), { ...(o.headers ? { headers: o.headers } : {}), ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) });
  let bytesRead = 0;
  const readJson = async (file: string): Promise<unknown> => {
    const s = src(file);
    const buf = await s.read(0, 8 * 1024 * 1024);
    bytesRead += buf.length;
    try {
      return JSON.parse(buf.toString('utf8'));
    } catch {
      throw new OrchardError('MODEL', `${file} is not JSON`, {
        where: s.where,
        hint: 'Point at an MLX model repository (config.json and safetensors weights).',
      });
    }
  };
  const config = (await readJson('config.json')) as Record<string, unknown>;
  let shards: string[];
  try {
    const index = (await readJson('model.safetensors.index.json')) as { weight_map?: Record<string, string> };
    shards = [...new Set(Object.values(index.weight_map ?? {}))].sort();
    if (shards.length === 0)
      throw new OrchardError('MODEL', 'model.safetensors.index.json has an empty weight_map', {
        where: at('model.safetensors.index.json'),
        hint: 'The repository is incomplete.',
      });
  } catch (err) {
    if (!notFound(err)) throw err;
    shards = ['model.safetensors'];
  }
  const headers: SafetensorsHeader[] = [];
  for (const shard of shards) {
    const h = await readSafetensorsHeader(src(shard));
    bytesRead += h.headerBytes;
    headers.push(h);
  }
  return { ...shapeFromConfig(config, headers, at('config.json')), shards, bytesRead };
}

function notFound(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return (e.code === 'DOWNLOAD' || e.code === 'MODEL') && /\b404\b|Not Found|ENOENT|no such file/i.test(String(e.message));
}

function num(config: Record<string, unknown>, ...keys: string[]): number | undefined {
  for (const k of keys) {
    const v = config[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return undefined;
}

/** The model's shape from config.json (the keys mlx-lm's model classes read) and its weights from the headers. */
export function shapeFromConfig(
  raw: Record<string, unknown>,
  headers: readonly SafetensorsHeader[],
  where: string,
): Omit<MlxModelShape, 'shards' | 'bytesRead'> {
  // Some models (e.g. multimodal wrappers) nest the language model's settings.
  const config =
    typeof raw['text_config'] === 'object' && raw['text_config'] !== null
      ? { ...raw, ...(raw['text_config'] as Record<string, unknown>) }
      : raw;
  const need = (...keys: string[]): number => {
    const v = num(config, ...keys);
    if (v === undefined)
      throw new OrchardError('MODEL', `config.json has no ${keys.join(' / ')}`, {
        where,
        hint: 'This does not look like an mlx-lm language model.',
      });
    return v;
  };
  const layers = need('num_hidden_layers', 'n_layers', 'num_layers');
  const hidden = need('hidden_size', 'dim', 'd_model');
  const heads = need('num_attention_heads', 'n_heads');
  const kvHeads = num(config, 'num_key_value_heads', 'n_kv_heads') ?? heads;
  const headDim = num(config, 'head_dim') ?? Math.floor(hidden / heads);
  const kvLora = num(config, 'kv_lora_rank');
  const ropeDim = num(config, 'qk_rope_head_dim');
  // DeepSeek V2/V3 (mlx_lm/models/deepseek_v3.py): the cache keeps the compressed latent and the
  // rope part of the key, one "head" of kv_lora_rank + qk_rope_head_dim per token and layer.
  const mla = kvLora !== undefined && ropeDim !== undefined;
  const kvElementsPerToken = mla ? kvLora + ropeDim : 2 * kvHeads * headDim;
  const kvFormula = mla
    ? `kv_lora_rank ${kvLora} + qk_rope_head_dim ${ropeDim} (MLA latent)`
    : `2 × ${kvHeads} KV heads × head dim ${headDim}`;
  const moe = (num(config, 'moe_intermediate_size') ?? 0) * (num(config, 'num_experts_per_tok') ?? 0);
  const intermediate = Math.max(num(config, 'intermediate_size', 'ffn_dim') ?? 4 * hidden, moe);
  const quant = (config['quantization'] ?? config['quantization_config']) as { bits?: unknown; group_size?: unknown } | undefined;
  const bits = typeof quant?.bits === 'number' ? quant.bits : undefined;
  const groupSize = typeof quant?.group_size === 'number' ? quant.group_size : undefined;
  const dtype = String(config['torch_dtype'] ?? config['dtype'] ?? 'bfloat16');
  const activationBytes = /float32/.test(dtype) ? 4 : 2;

  const all = headers.flatMap((h) => h.tensors);
  const bytesByDtype: Record<string, number> = {};
  for (const t of all) bytesByDtype[t.dtype] = (bytesByDtype[t.dtype] ?? 0) + t.bytes;
  const quantized = new Set(all.filter((t) => t.name.endsWith('.scales')).map((t) => t.name.slice(0, -'.scales'.length)));
  let parameters = 0;
  for (const t of all) {
    const elements = t.shape.reduce((a, b) => a * b, 1);
    const module = t.name.replace(/\.(weight|scales|biases)$/, '');
    if (quantized.has(module) && (t.name.endsWith('.scales') || t.name.endsWith('.biases'))) continue;
    // A quantized weight is packed into uint32: 32 / bits values per element (per-layer bits may differ).
    if (quantized.has(module) && t.dtype === 'U32') {
      const layerBits = layerQuantBits(quant, module) ?? bits ?? 4;
      parameters += elements * (32 / layerBits);
    } else parameters += elements;
  }
  const vocab = num(config, 'vocab_size') ?? 0;
  return {
    where,
    modelType: String(config['model_type'] ?? 'unknown'),
    layers,
    hidden,
    intermediate,
    heads,
    kvElementsPerToken,
    kvFormula,
    vocab,
    trainContext: num(config, 'max_position_embeddings', 'max_seq_len') ?? 4096,
    weightsBytes: all.reduce((s, t) => s + t.bytes, 0),
    bytesByDtype,
    parameters: Math.round(parameters),
    ...(bits !== undefined ? { bits } : {}),
    ...(groupSize !== undefined ? { groupSize } : {}),
    activationBytes,
  };
}

function layerQuantBits(quant: { bits?: unknown } | undefined, module: string): number | undefined {
  const own = (quant as Record<string, unknown> | undefined)?.[module] as { bits?: unknown } | undefined;
  return typeof own?.bits === 'number' ? own.bits : undefined;
}

/**
 * Memory of `mlx_lm.server` (mlx-lm 0.31.3) for the model at a context:
 * - weights: the exact bytes of every tensor in the safetensors headers (MLX maps them as stored:
 *   packed quantized weights, their scales and biases, unquantized norms and embeddings);
 * - kv: layers × tokens × kvElementsPerToken × activation bytes, tokens rounded up to the KV
 *   cache's 256-token steps (mlx_lm/models/cache.py KVCache.step);
 * - compute: one prefill chunk (--prefill-step-size 2048) through the widest layer —
 *   2048 × (6·hidden + 3·intermediate) activations — plus one row of float32 logits; an estimate;
 * - overhead: Python, MLX, mlx-lm, the tokenizer and the HTTP server before any weights: an
 *   allowance of 1 GiB, not measured here (no Mac in CI); the working set is checked with it.
 */
export const MLX_RUNTIME_OVERHEAD = 1024 ** 3;
export const MLX_PREFILL_STEP = 2048;

export function predictMlxMemory(
  s: MlxModelShape,
  contextSize: number,
): { weights: number; kv: number; compute: number; overhead: number; total: number; gpu: number } {
  const tokens = Math.ceil(contextSize / 256) * 256;
  const kv = s.layers * tokens * s.kvElementsPerToken * s.activationBytes;
  const compute = Math.min(MLX_PREFILL_STEP, tokens) * (6 * s.hidden + 3 * s.intermediate) * s.activationBytes + 4 * s.vocab;
  const overhead = MLX_RUNTIME_OVERHEAD;
  const weights = s.weightsBytes;
  return { weights, kv, compute, overhead, total: weights + kv + compute + overhead, gpu: weights + kv + compute };
}

/**
 * The `fit --json` report for an MLX model. MLX runs only on Apple Silicon: every byte but the
 * runtime lives in unified memory under the GPU working-set limit, which is the budget; over the
 * limit but within RAM is `fits-after-raising-limit` with the exact sysctl. Elsewhere: does-not-fit.
 */
export function fitMlxOnMachine(s: MlxModelShape, machine: MachineInfo, contextSize: number): FitReport {
  const p = predictMlxMemory(s, contextSize);
  const ram = machine.memory.totalBytes;
  const reserve = osReserve(ram);
  const base = {
    bytes: { weights: p.weights, kv: p.kv, compute: p.compute, overhead: p.overhead, total: p.total },
    model: {
      architecture: s.modelType,
      name: path.basename(s.where.replace(/\/(resolve\/[^/]+\/)?config\.json$/, '')),
      parameters: s.parameters,
      layers: s.layers,
      trainContext: s.trainContext,
      bitsPerWeight: Math.round(((s.weightsBytes * 8) / Math.max(s.parameters, 1)) * 100) / 100,
      splitCount: s.shards.length,
    },
    contextSize,
    offload: { gpuLayers: s.layers, totalLayers: s.layers },
  };
  const advice: string[] = [
    `MLX: KV cache ${s.kvFormula} × ${s.layers} layers × ${s.activationBytes} bytes per token; weights read from ` +
      `${s.shards.length} safetensors header(s).`,
  ];
  if (contextSize > s.trainContext)
    advice.push(`The context ${contextSize} is beyond the model's ${s.trainContext}; quality drops past it.`);
  const mac = machine.os === 'darwin' && machine.arch === 'arm64' && machine.unifiedMemory && machine.accelerators.includes('metal');
  if (!mac) {
    return {
      ...base,
      verdict: 'does-not-fit',
      budget: {
        kind: machine.unifiedMemory ? 'unified' : machine.gpus.length > 0 ? 'discrete-gpu' : 'cpu',
        accelerator: machine.accelerators[0] ?? 'cpu',
        ramBytes: ram,
        reserveBytes: reserve,
        gpuNeededBytes: p.gpu,
      },
      offload: { gpuLayers: 0, totalLayers: s.layers },
      advice: [...advice, 'MLX runs only on Apple Silicon (Metal) in Orchard; on this machine use the GGUF engine of this model.'],
    };
  }
  const workingSet = workingSetOf(machine);
  const budget = {
    kind: 'unified' as const,
    accelerator: 'metal' as const,
    ramBytes: ram,
    reserveBytes: reserve,
    gpuWorkingSetBytes: workingSet,
    ...(machine.macos?.wiredLimitMb ? { wiredLimitMb: machine.macos.wiredLimitMb } : {}),
    gpuNeededBytes: p.gpu,
  };
  if (p.total > ram - reserve) {
    const fixed = p.weights + p.compute + p.overhead;
    const perToken = s.layers * s.kvElementsPerToken * s.activationBytes;
    const tokens = Math.floor((ram - reserve - fixed) / perToken / 256) * 256;
    return {
      ...base,
      verdict: 'does-not-fit',
      budget,
      advice: [
        ...advice,
        `Needs ${gib(p.total)} (weights ${gib(p.weights)}) but this Mac has ${gib(ram)}, of which ${gib(reserve)} must stay free ` +
          `for macOS: ${gib(ram - reserve)} usable.`,
        fixed < ram - reserve && tokens >= 2048
          ? `A context of ${tokens} tokens would fit.`
          : `The weights alone need a Mac with at least ${gib(p.weights + p.overhead + osReserve(p.weights * 1.15))} of memory, ` +
            'or a smaller quantization.',
      ],
    };
  }
  if (p.gpu <= workingSet) return { ...base, verdict: 'fits', budget, advice };
  return {
    ...base,
    verdict: 'fits-after-raising-limit',
    budget,
    raiseLimit: raiseLimitFor(p.gpu, ram),
    advice: [
      ...advice,
      `The GPU working-set limit is ${gib(workingSet)}; the model needs ${gib(p.gpu)} on the GPU. mlx_lm.server wires memory up ` +
        'to that limit (mx.set_wired_limit at start-up).',
    ],
  };
}
