import { execa } from 'execa';

/** GPU statistics of one accelerator, from `ioreg -r -d 1 -w 0 -c IOAccelerator` (macOS, no root). */
export interface GpuStats {
  /** IOKit class of the accelerator node, e.g. AGXAcceleratorG13X. */
  accelerator: string;
  model?: string;
  deviceUtilizationPercent?: number;
  rendererUtilizationPercent?: number;
  tilerUtilizationPercent?: number;
  /** Bytes of (unified) system memory the GPU driver has in use / has allocated. */
  inUseSystemMemoryBytes?: number;
  allocSystemMemoryBytes?: number;
}

const KEYS: Record<string, keyof GpuStats> = {
  'Device Utilization %': 'deviceUtilizationPercent',
  'Renderer Utilization %': 'rendererUtilizationPercent',
  'Tiler Utilization %': 'tilerUtilizationPercent',
  'In use system memory': 'inUseSystemMemoryBytes',
  'Alloc system memory': 'allocSystemMemoryBytes',
};

/**
 * Parse every accelerator node. Nodes start at a `+-o Name  <class ...>` line; their
 * "PerformanceStatistics" is a one-line dictionary `{"Key"=value,...}`. Keys are matched whole
 * (quoted), so "In use system memory (driver)" never feeds "In use system memory". Percentages
 * outside 0..100 (seen on some Intel drivers) are dropped rather than reported.
 */
export function parseIoregAccelerators(text: string): GpuStats[] {
  const out: GpuStats[] = [];
  const nodes = text.split(/^(?=[ |]*\+-o )/m).filter((chunk) => /^[ |]*\+-o /.test(chunk));
  for (const node of nodes) {
    const header = /^[ |]*\+-o (\S+)/.exec(node);
    const statsText = /"PerformanceStatistics"\s*=\s*\{(.*)\}\s*$/m.exec(node)?.[1];
    if (!header || statsText === undefined) continue;
    const stats: GpuStats = { accelerator: header[1] ?? '?' };
    const model = /^[ |]*"model"\s*=\s*(?:"([^"]*)"|<"([^"]*)">)/m.exec(node);
    if (model) stats.model = model[1] ?? model[2];
    for (const pair of statsText.matchAll(/"([^"]+)"\s*=\s*(-?\d+(?:\.\d+)?)(?=[,}]|$)/g)) {
      const field = KEYS[pair[1] ?? ''];
      const value = Number(pair[2]);
      if (!field || !Number.isFinite(value)) continue;
      if (field.endsWith('Percent') && (value < 0 || value > 100)) continue;
      if (field.endsWith('Bytes') && (value < 0 || value > Number.MAX_SAFE_INTEGER)) continue;
      (stats as unknown as Record<string, number>)[field] = value;
    }
    out.push(stats);
  }
  return out;
}

/** Sample the GPUs now (macOS only; undefined elsewhere or when ioreg fails). */
export async function sampleGpus(): Promise<GpuStats[] | undefined> {
  if (process.platform !== 'darwin') return undefined;
  const result = await execa('ioreg', ['-r', '-d', '1', '-w', '0', '-c', 'IOAccelerator'], { reject: false, timeout: 3000 });
  return result.exitCode === 0 ? parseIoregAccelerators(String(result.stdout)) : undefined;
}
