import type { Accelerator, Arch, Os } from '../recipe/recipe.types.gen.js';

/** What the hardware probe found. Every field comes from a real command's output or the OS. */
export interface GpuInfo {
  name: string;
  vendor: 'apple' | 'nvidia' | 'amd' | 'intel' | 'other';
  /** Dedicated memory; undefined on unified-memory machines. */
  vramBytes?: number;
  vramFreeBytes?: number;
  cores?: number;
  driver?: string;
  /** e.g. "Metal 3", CUDA compute capability "8.9" */
  api?: string;
  backends: Accelerator[];
}

export interface MachineInfo {
  os: Os;
  arch: Arch;
  model?: string;
  cpu: { brand: string; cores: number };
  memory: { totalBytes: number; availableBytes?: number };
  /** Apple Silicon: CPU and GPU share memory. */
  unifiedMemory: boolean;
  gpus: GpuInfo[];
  /** Accelerators usable here, best first; always ends with cpu. */
  accelerators: Accelerator[];
  macos?: {
    /** iogpu.wired_limit_mb when set (0 means default). */
    wiredLimitMb?: number;
    /** The GPU working-set limit in bytes, as in effect now. */
    gpuWorkingSetBytes: number;
  };
  /** What each source said or why it could not be read. */
  sources: { name: string; ok: boolean; note?: string }[];
}
