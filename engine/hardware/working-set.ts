const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/**
 * The GPU working-set limit on Apple Silicon: how much unified memory Metal lets the GPU wire
 * (MTLDevice.recommendedMaxWorkingSetSize). Not readable without Metal, so when
 * `iogpu.wired_limit_mb` is 0 (the default) we estimate it:
 *   RAM ≤ 32 GiB → 2/3 of RAM; larger → 3/4 of RAM.
 * Source: the recommendedMaxWorkingSetSize that ggml prints at start-up in real logs —
 *   M1 Pro 16 GB: 11453.25 MB = 2/3 (leejet/stable-diffusion.cpp#108);
 *   M2 24 GB: 17179.89 MB = 2/3 (lmstudio-ai/lmstudio-bug-tracker#284);
 *   M3 Max 48 GB: 38654.71 MB = 3/4 (SciSharp/LLamaSharp#835);
 * gpustack/gpustack#1375 also calls the default 75 %. Newer macOS releases may allow more
 * (antirez/ds4#893 measured ~84 % on 128 GB), so this is an estimate, labelled as one; a
 * recommendedMaxWorkingSetSize line in a real load log wins over it.
 * When `iogpu.wired_limit_mb` is non-zero it is the limit (llmfit PR #754: Metal then reports
 * exactly that value).
 */
export function gpuWorkingSetBytes(
  totalBytes: number,
  wiredLimitMb: number | undefined,
): { bytes: number; source: 'iogpu.wired_limit_mb' | 'estimate' } {
  if (wiredLimitMb !== undefined && wiredLimitMb > 0)
    return { bytes: Math.min(wiredLimitMb * MiB, totalBytes), source: 'iogpu.wired_limit_mb' };
  const fraction = totalBytes <= 32 * GiB ? 2 / 3 : 3 / 4;
  return { bytes: Math.floor(totalBytes * fraction), source: 'estimate' };
}

export interface WiredLimitAdvice {
  /** The value to set, in MiB. */
  mb: number;
  command: string;
  /** What it costs and how to undo it. */
  risk: string;
  resetCommand: string;
}

/**
 * For models bigger than the default working set: leave the OS max(8 GiB, 10 % of RAM) and give
 * the GPU the rest. Not persistent: it resets at reboot.
 */
export function recommendedWiredLimit(totalBytes: number): WiredLimitAdvice {
  const reserve = Math.max(8 * GiB, Math.ceil((totalBytes * 0.1) / GiB) * GiB);
  const mb = Math.max(0, Math.floor((totalBytes - reserve) / GiB) * 1024);
  return {
    mb,
    command: `sudo sysctl iogpu.wired_limit_mb=${mb}`,
    risk:
      `Lets the GPU wire up to ${(mb / 1024).toFixed(0)} GiB, leaving ${((totalBytes - mb * MiB) / GiB).toFixed(0)} GiB for ` +
      'macOS and apps. ' +
      'If a model plus everything else then needs more than the RAM, macOS swaps hard or freezes (a kernel panic is possible); ' +
      'close other large apps first. Needs root, and lasts until reboot.',
    resetCommand: 'sudo sysctl iogpu.wired_limit_mb=0',
  };
}
