import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { OrchardHome } from '../core/home.js';
import { repoRoot } from '../core/repo-root.js';
import { chooseAccelerator, osReserve } from '../fit/fit-verdict.js';
import type { MachineInfo } from '../hardware/machine-info.js';
import { engineBinaries, engineBuild } from './engine-build.js';
import type { PeerInfo } from './hosts.js';

const MiB = 1024 ** 2;

/**
 * Bytes this machine can give a model's layers: the Metal working set on a Mac (as in effect now,
 * so raising iogpu.wired_limit_mb raises it), the usable VRAM of the CUDA GPUs, else RAM less the
 * OS reserve (the same budgets as `orchard fit`).
 */
export function nodeBudget(machine: MachineInfo): { budgetBytes: number; accelerator: string } {
  const accelerator = chooseAccelerator(machine, 'auto');
  const ram = machine.memory.totalBytes;
  if (accelerator === 'metal' && machine.unifiedMemory) {
    const ws = machine.macos?.wiredLimitMb
      ? machine.macos.wiredLimitMb * MiB
      : (machine.macos?.gpuWorkingSetBytes ?? Math.round(ram * 0.75));
    return { budgetBytes: ws, accelerator };
  }
  if (accelerator === 'cuda' || accelerator === 'rocm' || accelerator === 'vulkan') {
    const vram = machine.gpus.filter((g) => g.backends.includes(accelerator)).reduce((s, g) => s + (g.vramBytes ?? 0), 0);
    return { budgetBytes: Math.max(0, vram - 512 * MiB), accelerator };
  }
  return { budgetBytes: Math.max(0, ram - osReserve(ram)), accelerator: 'cpu' };
}

/** What `orchard cluster self --json` answers: the peer's Orchard, engine build and budget. */
export async function peerInfo(home: OrchardHome, machine: MachineInfo, env: NodeJS.ProcessEnv = process.env): Promise<PeerInfo> {
  let engine: PeerInfo['engine'] = null;
  try {
    engine = await engineBuild(engineBinaries(home, env));
  } catch {
    engine = null;
  }
  const pkg = JSON.parse(await readFile(path.join(repoRoot(), 'package.json'), 'utf8')) as { version?: string };
  return {
    orchardVersion: pkg.version ?? 'unknown',
    engine,
    ...nodeBudget(machine),
    ramBytes: machine.memory.totalBytes,
    platform: `${machine.os}-${machine.arch}`,
  };
}
