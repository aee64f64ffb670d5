import { chooseAccelerator, osReserve } from '../fit/fit-verdict.js';
import type { MachineInfo } from '../hardware/machine-info.js';

/**
 * The memory the gateway's loaded models may share, by default: what the fit check calls usable.
 * - Apple Silicon with Metal: the GPU working-set limit (iogpu.wired_limit_mb when set).
 * - A discrete GPU (CUDA, ROCm, Vulkan): its VRAM minus what the driver and display keep.
 * - CPU only: RAM minus the share kept for the OS (osReserve).
 * Each model's cost is its fit prediction: the GPU part on a GPU, the whole process on a CPU.
 */
export function usableMemoryBytes(machine: MachineInfo): number {
  const accelerator = chooseAccelerator(machine, 'auto');
  const ram = machine.memory.totalBytes;
  if (accelerator === 'metal' && machine.unifiedMemory) {
    const ws = machine.macos?.wiredLimitMb ? machine.macos.wiredLimitMb * 1024 * 1024 : machine.macos?.gpuWorkingSetBytes;
    return ws ?? Math.round(ram * 0.75);
  }
  if (accelerator === 'cpu') return Math.max(0, ram - osReserve(ram));
  const vendor = accelerator === 'cuda' ? ['nvidia'] : accelerator === 'rocm' ? ['amd'] : ['nvidia', 'amd', 'intel', 'other'];
  const vram = machine.gpus
    .filter((g) => vendor.includes(g.vendor) && g.backends.includes(accelerator))
    .reduce((s, g) => s + (g.vramBytes ?? 0), 0);
  return Math.max(0, vram - 512 * 1024 * 1024);
}
