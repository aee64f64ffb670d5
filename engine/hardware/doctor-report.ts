import { statfs } from 'node:fs/promises';
import path from 'node:path';
import type { OrchardHome } from '../core/home.js';
import type { Accelerator, Recipe } from '../recipe/recipe.types.gen.js';

/** What the report needs of a loaded recipe (hardware sits below recipe/: it takes only the schema's types). */
type LoadedRecipe = { recipe: Recipe };
import type { MachineInfo } from './machine-info.js';
import { gpuWorkingSetBytes, recommendedWiredLimit, type WiredLimitAdvice } from './working-set.js';

const GiB = 1024 ** 3;

export interface MemoryBudget {
  /** What a model can use for weights + cache on the fastest accelerator. */
  modelBytes: number;
  kind: 'gpu-working-set' | 'vram' | 'ram';
  explanation: string;
  /** Apple Silicon: how to let the GPU use more of the unified memory. */
  wiredLimit?: WiredLimitAdvice & { currentMb: number | null };
}

export interface RecipeFit {
  id: string;
  name: string;
  needs: { platforms: string[]; accelerators: Accelerator[]; memoryGiB: number | null; diskGiB: number | null };
  ok: boolean;
  problems: string[];
  /** What to do about them, for this platform and this recipe (no quantisation advice without a quantisation input). */
  fixes: string[];
}

export interface Problem {
  problem: string;
  fix: string;
}

export interface DoctorReport {
  machine: MachineInfo;
  accelerators: Accelerator[];
  budget: MemoryBudget;
  disk: { path: string; freeBytes: number | null };
  recipes: RecipeFit[];
  problems: Problem[];
}

export function memoryBudget(m: MachineInfo): MemoryBudget {
  if (m.unifiedMemory) {
    const ws = m.macos?.gpuWorkingSetBytes ?? gpuWorkingSetBytes(m.memory.totalBytes, undefined).bytes;
    const advice = recommendedWiredLimit(m.memory.totalBytes);
    return {
      modelBytes: ws,
      kind: 'gpu-working-set',
      explanation:
        `Apple Silicon shares ${gib(m.memory.totalBytes)} between CPU and GPU, but Metal lets the GPU wire only ${gib(ws)} (` +
        (m.macos?.wiredLimitMb
          ? `iogpu.wired_limit_mb=${m.macos.wiredLimitMb}`
          : 'the macOS default: an estimate of recommendedMaxWorkingSetSize') +
        ').',
      wiredLimit: { ...advice, currentMb: m.macos?.wiredLimitMb ?? null },
    };
  }
  const vram = m.gpus.map((g) => g.vramBytes ?? 0).reduce((a, b) => a + b, 0);
  if (vram > 0 && m.accelerators.some((a) => a === 'cuda' || a === 'rocm' || a === 'vulkan')) {
    return {
      modelBytes: vram,
      kind: 'vram',
      explanation: `${gib(vram)} of GPU memory; layers that do not fit run on the CPU from ${gib(m.memory.totalBytes)} of RAM.`,
    };
  }
  return {
    modelBytes: m.memory.availableBytes ?? m.memory.totalBytes,
    kind: 'ram',
    explanation: `No GPU: models run on the CPU from RAM (${gib(m.memory.totalBytes)} total).`,
  };
}

export async function doctorReport(m: MachineInfo, recipes: LoadedRecipe[], home: OrchardHome): Promise<DoctorReport> {
  const budget = memoryBudget(m);
  const disk = await freeDisk(home.root);
  const problems: Problem[] = [];
  for (const s of m.sources) {
    if (!s.ok && s.name === 'nvidia-smi' && m.os === 'linux' && !/not found/.test(s.note ?? '')) {
      problems.push({
        problem: `nvidia-smi did not list a GPU (${s.note ?? 'no output'})`,
        fix: 'Install or repair the NVIDIA driver (nvidia-smi must work) to use CUDA.',
      });
    }
  }
  if (m.accelerators.length === 1) {
    problems.push({
      problem: 'No GPU backend is usable here: every model will run on the CPU.',
      fix: m.os === 'darwin' ? 'Use an Apple Silicon Mac for Metal.' : 'Install the NVIDIA driver (CUDA) or a Vulkan driver for your GPU.',
    });
  }
  if (budget.wiredLimit && !budget.wiredLimit.currentMb) {
    problems.push({
      problem: `Models over ${gib(budget.modelBytes)} will not fit the GPU working set (macOS default).`,
      fix: `For big models: ${budget.wiredLimit.command} (${budget.wiredLimit.risk} Undo: ${budget.wiredLimit.resetCommand}).`,
    });
  }
  const fits = recipes.map((r) => recipeFit(r, m, budget, disk.freeBytes));
  // One list of machine problems; each recipe's own reasons stay in its row of the recipe table.
  const blocked = fits.filter((f) => !f.ok);
  if (blocked.length > 0 && blocked.length === fits.length) {
    problems.push({
      problem: `None of the ${fits.length} recipes runs well on this machine.`,
      fix: 'See the recipe table for each one’s reasons and what to do.',
    });
  }
  return { machine: m, accelerators: m.accelerators, budget, disk, recipes: fits, problems };
}

function recipeFit(loaded: LoadedRecipe, m: MachineInfo, budget: MemoryBudget, freeBytes: number | null): RecipeFit {
  const req = loaded.recipe.requires ?? {};
  const platforms = (req.platforms ?? []) as string[];
  const accelerators = (req.accelerators ?? []) as Accelerator[];
  const memoryGiB = req.memoryGiB ?? null;
  const diskGiB = req.diskGiB ?? null;
  const problems: string[] = [];
  const platform = `${m.os}-${m.arch}`;
  if (platforms.length > 0 && !platforms.includes(platform)) problems.push(`runs on ${platforms.join(', ')}, not ${platform}`);
  if (accelerators.length > 0 && !accelerators.some((a) => m.accelerators.includes(a)))
    problems.push(`needs ${accelerators.join(' or ')}; this machine has ${m.accelerators.join(', ')}`);
  const usableMemory =
    accelerators.length > 0 && accelerators.every((a) => a !== 'cpu')
      ? budget.modelBytes
      : Math.max(budget.modelBytes, m.memory.totalBytes);
  if (memoryGiB !== null && memoryGiB * GiB > usableMemory)
    problems.push(`needs ${memoryGiB} GiB of memory; ${gib(usableMemory)} usable here`);
  if (diskGiB !== null && freeBytes !== null && diskGiB * GiB > freeBytes)
    problems.push(`needs ${diskGiB} GiB of disk; ${gib(freeBytes)} free`);
  const fixes = [...new Set(problems.map((p) => fixFor(p, loaded, m)))];
  return {
    id: loaded.recipe.id,
    name: loaded.recipe.name,
    needs: { platforms, accelerators, memoryGiB, diskGiB },
    ok: problems.length === 0,
    problems,
    fixes,
  };
}

/** Advice that fits this platform and this recipe. */
function fixFor(problem: string, loaded: LoadedRecipe, m: MachineInfo): string {
  if (problem.includes('of memory')) {
    const quantInput = Object.keys(loaded.recipe.inputs ?? {}).find((k) => /quant/i.test(k));
    const options = [
      quantInput ? `pick a smaller quantisation (input "${quantInput}")` : 'pick a smaller model',
      ...(m.os === 'darwin' && m.unifiedMemory ? ['raising iogpu.wired_limit_mb may make it fit (see above)'] : []),
    ];
    return `${options.join('; ')}.`.replace(/^./, (c) => c.toUpperCase());
  }
  if (problem.includes('of disk')) return 'Free disk space, or point ORCHARD_HOME at a bigger disk.';
  if (problem.startsWith('needs'))
    return m.accelerators.length === 1
      ? 'Needs a GPU; install it with --allow-cpu to run it on the CPU, slowly.'
      : 'Install on a machine with that accelerator.';
  return 'This app does not support this platform.';
}

async function freeDisk(dir: string): Promise<{ path: string; freeBytes: number | null }> {
  let p = dir;
  for (;;) {
    try {
      const s = await statfs(p);
      return { path: p, freeBytes: Number(s.bavail) * Number(s.bsize) };
    } catch {
      const up = path.dirname(p);
      if (up === p) return { path: dir, freeBytes: null };
      p = up;
    }
  }
}

export function gib(bytes: number): string {
  return `${(bytes / GiB).toFixed(1)} GiB`;
}
