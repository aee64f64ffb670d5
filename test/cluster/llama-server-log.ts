import { readdirSync, readFileSync } from 'node:fs';

/** What llama.cpp's own load log says about placement, for comparing with Orchard's prediction. */
export interface LoggedPlacement {
  /** layer index → device name as logged ("RPC0", "RPC1", "CPU"…). */
  layers: Map<number, string>;
  /** RPC endpoint port → model buffer MiB (`load_tensors: RPC0[127.0.0.1:P] model buffer size = X MiB`). */
  modelMiB: Map<number, number>;
  /** RPC endpoint port → KV buffer MiB. */
  kvMiB: Map<number, number>;
}

export function loggedPlacement(log: string): LoggedPlacement {
  const layers = new Map<number, string>();
  for (const m of log.matchAll(/load_tensors: layer\s+(\d+) assigned to device (\S+?), is_swa/g)) layers.set(Number(m[1]), m[2]!);
  const modelMiB = new Map<number, number>();
  for (const m of log.matchAll(/load_tensors: RPC\d+\[127\.0\.0\.1:(\d+)\] model buffer size =\s+([\d.]+) MiB/g))
    modelMiB.set(Number(m[1]), Number(m[2]));
  const kvMiB = new Map<number, number>();
  for (const m of log.matchAll(/llama_kv_cache: RPC\d+\[127\.0\.0\.1:(\d+)\] KV buffer size =\s+([\d.]+) MiB/g))
    kvMiB.set(Number(m[1]), Number(m[2]));
  return { layers, modelMiB, kvMiB };
}

/**
 * Repeating layers per device index, as [first, last] ranges, from the logged map ("RPC<i>"). Layer
 * `nLayers` in llama.cpp's log is the output layer: see outputDevice.
 */
export function rangesByDevice(layers: Map<number, string>, devices: number, nLayers: number): ([number, number] | null)[] {
  const out: ([number, number] | null)[] = new Array(devices).fill(null);
  for (const [il, name] of [...layers].sort((a, b) => a[0] - b[0])) {
    if (il >= nLayers) continue;
    const m = /^RPC(\d+)$/.exec(name);
    if (!m) continue;
    const d = Number(m[1]);
    const cur = out[d];
    out[d] = cur ? [cur[0], il] : [il, il];
  }
  return out;
}

/** Pids of live processes whose command line contains `needle` (Linux /proc). */
export function processesMatching(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const state = /^State:\s+(\S)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (state !== 'Z' && cmdline.includes(needle)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The device index llama.cpp gave the output layer (logged as layer n_layer). */
export function outputDevice(layers: Map<number, string>, nLayers: number): number | undefined {
  const m = /^RPC(\d+)$/.exec(layers.get(nLayers) ?? '');
  return m ? Number(m[1]) : undefined;
}
