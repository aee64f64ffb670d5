import type { MachineInfo } from '../hardware/machine-info.js';
import type { Accelerator } from '../recipe/recipe.types.gen.js';
import type { ModelShape } from './model-shape.js';
import { predictMemory, type MemoryPrediction } from './predict-memory.js';

/** DESIGN §7: what `orchard fit --json` prints. */
export type FitVerdict = 'fits' | 'fits-after-raising-limit' | 'does-not-fit';

export interface FitReport {
  verdict: FitVerdict;
  bytes: { weights: number; kv: number; compute: number; overhead: number; total: number };
  budget: {
    kind: 'unified' | 'discrete-gpu' | 'cpu';
    accelerator: Accelerator;
    ramBytes: number;
    /** Memory kept free for the OS and other programs. */
    reserveBytes: number;
    /** Dedicated GPU memory (sum of the GPUs of the chosen kind). */
    vramBytes?: number;
    /** macOS: the GPU working-set limit in effect now. */
    gpuWorkingSetBytes?: number;
    wiredLimitMb?: number;
    /** Bytes needed on the GPU (or in the working set) for every layer to be offloaded. */
    gpuNeededBytes: number;
  };
  model: {
    architecture: string;
    name?: string;
    parameters: number;
    layers: number;
    trainContext: number;
    bitsPerWeight: number;
    splitCount: number;
  };
  contextSize: number;
  /** Layers that will run on the GPU, of the model's total (block count + output). */
  offload: { gpuLayers: number; totalLayers: number };
  /** macOS only, with verdict fits-after-raising-limit. */
  raiseLimit?: { command: string; valueMb: number; risk: string };
  advice: string[];
  /** For a recipe: the engine it runs on (gguf or mlx). */
  engine?: 'gguf' | 'mlx';
  /** For a recipe whose model has other engines: their verdicts on this machine. */
  alternatives?: {
    recipe: string;
    engine: 'gguf' | 'mlx';
    verdict?: FitVerdict;
    totalBytes?: number;
    raiseLimit?: string;
    error?: string;
  }[];
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
/** Rough bits per weight of common llama.cpp quants (llama-quantize's table), for advice only. */
const QUANTS: [string, number][] = [
  ['Q8_0', 8.5],
  ['Q6_K', 6.56],
  ['Q5_K_M', 5.69],
  ['Q4_K_M', 4.89],
  ['IQ4_XS', 4.25],
  ['Q3_K_M', 3.91],
  ['IQ3_XS', 3.3],
  ['Q2_K', 2.96],
  ['IQ2_XS', 2.31],
];

export interface FitOptions {
  contextSize: number;
  parallel?: number;
  /** Which accelerator the service will use; `auto` takes the machine's best. */
  gpu?: Accelerator | 'auto';
}

/** Memory kept for the OS: 10% of RAM, at least 8 GiB (4 GiB on machines under 32 GiB). */
export function osReserve(ramBytes: number): number {
  return Math.max(ramBytes < 32 * GiB ? 4 * GiB : 8 * GiB, Math.round(ramBytes * 0.1));
}

export function chooseAccelerator(machine: MachineInfo, gpu: Accelerator | 'auto' | undefined): Accelerator {
  if (gpu && gpu !== 'auto') return gpu;
  return machine.accelerators.find((a) => a === 'metal' || a === 'cuda' || a === 'vulkan' || a === 'cpu') ?? 'cpu';
}

/** The verdict for one model on one machine: a pure function, so tests pass explicit machines. */
export function fitModelOnMachine(shape: ModelShape, machine: MachineInfo, o: FitOptions): FitReport {
  const accelerator = chooseAccelerator(machine, o.gpu);
  const p = predictMemory(shape, { contextSize: o.contextSize, ...(o.parallel ? { parallel: o.parallel } : {}), accelerator });
  const ram = machine.memory.totalBytes;
  const reserve = osReserve(ram);
  const totalLayers = shape.layers + 1;
  const bpw = (shape.weightsBytes * 8) / Math.max(shape.parameters, 1);
  const base = {
    bytes: { weights: p.weights, kv: p.kv, compute: p.compute, overhead: p.overhead, total: p.total },
    model: {
      architecture: shape.architecture,
      ...(shape.name ? { name: shape.name } : {}),
      parameters: shape.parameters,
      layers: shape.layers,
      trainContext: shape.trainContext,
      bitsPerWeight: Math.round(bpw * 100) / 100,
      splitCount: shape.splitCount,
    },
    contextSize: o.contextSize,
  };
  const advice: string[] = [];
  if (o.contextSize > shape.trainContext)
    advice.push(`The context ${o.contextSize} is beyond the model's training context ${shape.trainContext}; quality drops past it.`);
  const shrink = (available: number): string[] => shrinkAdvice(shape, p, available, o.contextSize);

  if (accelerator === 'metal' && machine.unifiedMemory) {
    const workingSet = workingSetOf(machine);
    const budget = {
      kind: 'unified' as const,
      accelerator,
      ramBytes: ram,
      reserveBytes: reserve,
      gpuWorkingSetBytes: workingSet,
      ...(machine.macos?.wiredLimitMb ? { wiredLimitMb: machine.macos.wiredLimitMb } : {}),
      gpuNeededBytes: p.gpu,
    };
    const offload = { gpuLayers: totalLayers, totalLayers };
    if (p.total > ram - reserve) {
      return {
        ...base,
        verdict: 'does-not-fit',
        budget,
        offload,
        advice: [
          ...advice,
          `Needs ${gib(p.total)} but this Mac has ${gib(ram)} of memory, of which ${gib(reserve)} must stay free for macOS.`,
          ...shrink(ram - reserve),
        ],
      };
    }
    if (p.gpu <= workingSet) return { ...base, verdict: 'fits', budget, offload, advice };
    return {
      ...base,
      verdict: 'fits-after-raising-limit',
      budget,
      offload,
      raiseLimit: raiseLimitFor(p.gpu, ram),
      advice: [...advice, `The GPU working-set limit is ${gib(workingSet)}; the model needs ${gib(p.gpu)} on the GPU.`],
    };
  }

  if (accelerator === 'cpu') {
    const budget = { kind: 'cpu' as const, accelerator, ramBytes: ram, reserveBytes: reserve, gpuNeededBytes: 0 };
    const offload = { gpuLayers: 0, totalLayers };
    if (p.total <= ram - reserve)
      return {
        ...base,
        verdict: 'fits',
        budget,
        offload,
        advice: [...advice, 'Runs on the CPU only: expect a few tokens per second for large models.'],
      };
    return {
      ...base,
      verdict: 'does-not-fit',
      budget,
      offload,
      advice: [...advice, `Needs ${gib(p.total)}; ${gib(ram - reserve)} of RAM is usable.`, ...shrink(ram - reserve)],
    };
  }

  // Discrete GPUs (CUDA, Vulkan, ROCm): layers that do not fit in VRAM run from RAM, slowly.
  const vendor = accelerator === 'cuda' ? ['nvidia'] : accelerator === 'rocm' ? ['amd'] : ['nvidia', 'amd', 'intel', 'other'];
  const vram = machine.gpus
    .filter((g) => vendor.includes(g.vendor) && g.backends.includes(accelerator))
    .reduce((s, g) => s + (g.vramBytes ?? 0), 0);
  const usableVram = Math.max(0, vram - 512 * MiB); // the driver and display keep some
  const budget = {
    kind: 'discrete-gpu' as const,
    accelerator,
    ramBytes: ram,
    reserveBytes: reserve,
    vramBytes: vram,
    gpuNeededBytes: p.gpu,
  };
  const hostPart = p.total - p.gpu;
  if (p.gpu <= usableVram && hostPart <= ram - reserve)
    return { ...base, verdict: 'fits', budget, offload: { gpuLayers: totalLayers, totalLayers }, advice };
  const perLayer = (shape.weightsBytes - shape.tokenEmbeddingBytes) / totalLayers + p.kv / shape.layers;
  const gpuLayers = Math.max(0, Math.min(totalLayers, Math.floor((usableVram - p.compute) / perLayer)));
  const onHost = p.total - gpuLayers * perLayer;
  if (onHost <= ram - reserve) {
    return {
      ...base,
      verdict: 'fits',
      budget,
      offload: { gpuLayers, totalLayers },
      advice: [
        ...advice,
        `Only about ${gpuLayers} of ${totalLayers} layers fit in ${gib(vram)} of VRAM; the rest run on the CPU, several times slower.`,
        ...shrink(usableVram + p.overhead),
      ],
    };
  }
  return {
    ...base,
    verdict: 'does-not-fit',
    budget,
    offload: { gpuLayers, totalLayers },
    advice: [
      ...advice,
      `Needs ${gib(p.total)}; ${gib(usableVram)} of VRAM and ${gib(ram - reserve)} of RAM are usable.`,
      ...shrink(usableVram + ram - reserve),
    ],
  };
}

/** macOS: the GPU working-set limit that lets `gpuBytes` (plus 1 GiB) be wired, and what that costs. */
export function raiseLimitFor(gpuBytes: number, ramBytes: number): NonNullable<FitReport['raiseLimit']> {
  const valueMb = Math.ceil((gpuBytes + GiB) / MiB / 1024) * 1024;
  return {
    command: `sudo sysctl iogpu.wired_limit_mb=${valueMb}`,
    valueMb,
    risk:
      `This lets the GPU wire ${gib(valueMb * MiB)} of the ${gib(ramBytes)} RAM; memory wired for the GPU cannot be paged ` +
      'out, so with other large programs open macOS can stall or swap heavily. The setting lasts until the next restart (sudo ' +
      'sysctl iogpu.wired_limit_mb=0 restores the default).',
  };
}

/** The working-set limit in effect: iogpu.wired_limit_mb when set, else the probed (or estimated) default. */
export function workingSetOf(machine: MachineInfo): number {
  return machine.macos?.wiredLimitMb
    ? machine.macos.wiredLimitMb * MiB
    : (machine.macos?.gpuWorkingSetBytes ?? Math.round(machine.memory.totalBytes * 0.75));
}

/** What would fit in `available` bytes: a shorter context, or a smaller quant of the same model. */
function shrinkAdvice(shape: ModelShape, p: MemoryPrediction, available: number, contextSize: number): string[] {
  const out: string[] = [];
  const fixed = p.weights + p.compute + p.overhead;
  if (fixed < available && p.kv > 0) {
    const perCell = p.kv / (Math.ceil(contextSize / 256) * 256);
    const cells = Math.floor((available - fixed) / perCell / 256) * 256;
    if (cells >= 2048 && cells < contextSize) out.push(`A context of ${cells} tokens would fit (--context ${cells}).`);
  }
  const bitsAvailable = ((available - p.kv - p.compute - p.overhead) * 8) / Math.max(shape.parameters, 1);
  const quant = QUANTS.find(([, bits]) => bits <= bitsAvailable);
  if (quant)
    out.push(`A ${quant[0]} quant (about ${quant[1]} bits per weight, ${gib((shape.parameters * quant[1]) / 8)} of weights) would fit.`);
  else out.push('Even a 2-bit quant of this model would not fit here: choose a smaller model.');
  return out;
}

export function gib(bytes: number): string {
  return `${(bytes / GiB).toFixed(1)} GiB`;
}
