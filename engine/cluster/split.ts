import { OrchardError } from '../core/errors.js';
import type { GgufHeader } from '../fit/gguf-header.js';
import type { ModelShape } from '../fit/model-shape.js';
import { predictMemory } from '../fit/predict-memory.js';

/**
 * Per-node memory for one model split over llama.cpp RPC workers (research/scale-out.md §1, §5).
 *
 * llama.cpp (src/llama-model.cpp, load_tensors) gives layer `il` of `n_layer + 1` (the last one
 * is the output layer) to the first device whose cumulative, normalised `-ts` share is greater
 * than `il / (n_layer + 1)`. RPC devices come first in the device list, the head's own GPU last.
 * So passing each device's layer COUNT as its `-ts` value places exactly those layers there, and
 * Orchard chooses the counts by bytes (not by layer count, which overloads the head): each node
 * takes its layers' `blk.N.*` tensors and their KV cache; the output layer (`output.*`, or a
 * duplicate of `token_embd` when the embeddings are tied) goes to the last device; `token_embd`
 * itself stays in the head's host RAM.
 */
export interface ClusterNodeBudget {
  /** Host name as the cluster knows it ("head" for this machine). */
  name: string;
  /** Bytes this node can give the model: Metal working set, usable VRAM, or RAM less the OS reserve. */
  budgetBytes: number;
  /** Whether this node is a llama.cpp device (a worker always is; a CPU-only head is not). */
  device: boolean;
  /** The head (runs llama-server). Exactly one node. */
  head?: boolean;
}

export interface NodePlacement {
  name: string;
  head: boolean;
  /** Repeating layers placed here, as [first, last] inclusive, or null. */
  layers: [number, number] | null;
  /** The output layer is on this node. */
  output: boolean;
  bytes: { weights: number; kv: number; compute: number; total: number };
  budgetBytes: number;
  fits: boolean;
}

export interface ClusterSplit {
  /** `-ts` values, in llama.cpp's device order (workers in order, then the head when it is a device). */
  tensorSplit: number[];
  nodes: NodePlacement[];
  /** On the head, outside the split: token_embd in host RAM and the service's own runtime. */
  headHost: { tokenEmbedding: number; overhead: number };
  fits: boolean;
  advice: string[];
}

export interface SplitOptions {
  contextSize: number;
  /** Bytes per KV element (2 for the default f16 cache). */
  kvElementBytes?: number;
}

/** Bytes of each repeating layer (`blk.N.*`), and of the output layer, from the headers' tensor table. */
export function layerBytes(headers: readonly GgufHeader[], layers: number): { perLayer: number[]; output: number; tokenEmbedding: number } {
  const perLayer = new Array<number>(layers).fill(0);
  let output = 0;
  let tokenEmbedding = 0;
  let hasOutputWeight = false;
  for (const t of headers.flatMap((h) => h.tensors)) {
    const m = /^blk\.(\d+)\./.exec(t.name);
    if (m) {
      const il = Number(m[1]);
      if (il < layers) perLayer[il]! += t.bytes;
    } else if (t.name === 'token_embd.weight') {
      tokenEmbedding = t.bytes;
    } else if (t.name.startsWith('output')) {
      output += t.bytes;
      if (t.name === 'output.weight') hasOutputWeight = true;
    }
  }
  // Tied embeddings: llama.cpp loads token_embd a second time as the output matrix, on the output device.
  if (!hasOutputWeight) output += tokenEmbedding;
  return { perLayer, output, tokenEmbedding };
}

/**
 * Choose each device's layers by bytes, in proportion to the nodes' budgets, and say per node what
 * it will hold. Refuses (fits: false, with numbers) when a node is over its budget.
 */
export function planClusterSplit(
  shape: ModelShape,
  headers: readonly GgufHeader[],
  nodes: readonly ClusterNodeBudget[],
  o: SplitOptions,
): ClusterSplit {
  const heads = nodes.filter((n) => n.head);
  if (heads.length !== 1) throw new OrchardError('USAGE', `a cluster needs exactly one head, not ${heads.length}`);
  const devices = [...nodes.filter((n) => !n.head && n.device), ...heads.filter((n) => n.device)];
  if (devices.length === 0)
    throw new OrchardError('USAGE', 'a cluster needs at least one worker', { hint: 'Add one with `orchard cluster add <ssh-host>`.' });
  const { perLayer, output, tokenEmbedding } = layerBytes(headers, shape.layers);
  const p = predictMemory(shape, { contextSize: o.contextSize, accelerator: 'cpu' });
  const cells = Math.ceil(o.contextSize / 256) * 256;
  const kvPerLayer = cells * (shape.keyLength + shape.valueLength) * shape.headsKv * (o.kvElementBytes ?? 2);
  const layerCost = perLayer.map((w) => w + kvPerLayer);
  const totalCost = layerCost.reduce((a, b) => a + b, 0) + output;

  // Greedy cut: device d takes layers until its share of the total (by budget) is reached; the
  // output layer belongs to the last device and counts against it from the start.
  const budgetSum = devices.reduce((s, d) => s + Math.max(0, d.budgetBytes - p.compute), 0);
  const counts = new Array<number>(devices.length).fill(0);
  let il = 0;
  for (let d = 0; d < devices.length; d++) {
    const last = d === devices.length - 1;
    if (last) {
      counts[d] = shape.layers - il;
      break;
    }
    const share = budgetSum > 0 ? (totalCost * Math.max(0, devices[d]!.budgetBytes - p.compute)) / budgetSum : totalCost / devices.length;
    let used = 0;
    while (il < shape.layers && used + layerCost[il]! / 2 <= share) {
      used += layerCost[il]!;
      il++;
      counts[d]!++;
    }
  }
  // -ts counts the output layer with the last device (it is layer n_layer in llama.cpp's loop).
  const tensorSplit = counts.map((c, d) => (d === devices.length - 1 ? c + 1 : c));

  const placements: NodePlacement[] = [];
  let first = 0;
  devices.forEach((dev, d) => {
    const count = counts[d]!;
    const range: [number, number] | null = count > 0 ? [first, first + count - 1] : null;
    let weights = 0;
    for (let i = first; i < first + count; i++) weights += perLayer[i]!;
    const isLast = d === devices.length - 1;
    if (isLast) weights += output;
    const kv = count * kvPerLayer;
    const compute = p.compute;
    const total = weights + kv + compute;
    placements.push({
      name: dev.name,
      head: dev.head === true,
      layers: range,
      output: isLast,
      bytes: { weights, kv, compute, total },
      budgetBytes: dev.budgetBytes,
      fits: total <= dev.budgetBytes,
    });
    first += count;
  });
  const head = heads[0]!;
  if (!head.device) {
    const hostTotal = tokenEmbedding + p.overhead;
    placements.push({
      name: head.name,
      head: true,
      layers: null,
      output: false,
      bytes: { weights: tokenEmbedding, kv: 0, compute: 0, total: hostTotal },
      budgetBytes: head.budgetBytes,
      fits: hostTotal <= head.budgetBytes,
    });
  }
  const advice = placements
    .filter((n) => !n.fits)
    .map(
      (n) =>
        `${n.name} needs ${gib(n.bytes.total)} but offers ${gib(n.budgetBytes)}: add a node, choose a smaller quantization, or ` +
        'shorten the context.',
    );
  return {
    tensorSplit,
    nodes: placements,
    headHost: { tokenEmbedding, overhead: p.overhead },
    fits: placements.every((n) => n.fits),
    advice,
  };
}

/**
 * Where llama.cpp put each layer, from its own debug log (`-v`): `load_tensors: layer  N assigned to
 * device RPC0[127.0.0.1:50052], is_swa = 0`. Device names are returned as printed.
 */
export function parseLayerPlacement(log: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of log.matchAll(/load_tensors: layer\s+(\d+) assigned to device (\S+?), is_swa/g)) out.set(Number(m[1]), m[2]!);
  return out;
}

/** GiB for model-sized figures, MiB below one GiB (so small nodes do not all read "0.0 GiB"). */
function gib(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
