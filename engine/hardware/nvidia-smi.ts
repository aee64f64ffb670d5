import type { GpuInfo } from './machine-info.js';

/** The query the probe runs; fields in this order. */
export const NVIDIA_QUERY_FIELDS = ['name', 'memory.total', 'memory.free', 'driver_version', 'compute_cap'] as const;

/**
 * `nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits`: one line per GPU, comma
 * separated, memory in MiB. Real captures: test/fixtures/hardware/nvidia-smi-*.csv
 * ("NVIDIA GeForce GTX 1050 Ti, 2131" for name,memory.free). "[N/A]" or "[Not Supported]" fields
 * are left out. `gpu_name` is an alias of `name`.
 */
export function parseNvidiaSmiCsv(text: string, fields: readonly string[] = NVIDIA_QUERY_FIELDS): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim() || /^name\b/i.test(line.trim())) continue;
    const cells = line.split(',').map((c) => c.trim());
    const get = (field: string): string | undefined => {
      const i = fields.findIndex((f) => f === field || (field === 'name' && f === 'gpu_name'));
      const v = i >= 0 ? cells[i] : undefined;
      return v && !/^\[.*\]$/.test(v) && v !== 'N/A' ? v : undefined;
    };
    const name = get('name');
    if (!name) continue;
    const gpu: GpuInfo = { name, vendor: 'nvidia', backends: ['cuda', 'vulkan'] };
    const mib = (v: string | undefined) => (v && /^[\d.]+/.test(v) ? Math.round(parseFloat(v) * 1024 * 1024) : undefined);
    const total = mib(get('memory.total'));
    if (total !== undefined) gpu.vramBytes = total;
    const free = mib(get('memory.free'));
    if (free !== undefined) gpu.vramFreeBytes = free;
    const driver = get('driver_version');
    if (driver) gpu.driver = driver;
    const cc = get('compute_cap');
    if (cc) gpu.api = `CUDA compute capability ${cc}`;
    gpus.push(gpu);
  }
  return gpus;
}

/**
 * Plain `nvidia-smi` table (test/fixtures/hardware/nvidia-smi-plain-gtx680.txt): the driver from the
 * header, then per GPU a name row ("|   0  GeForce GTX 680     Off  | …") followed by a memory row
 * ("|      9MiB /  4095MiB |"). Used when the query form is not supported.
 */
export function parseNvidiaSmiTable(text: string): GpuInfo[] {
  const driver = /Driver Version:\s*([\d.]+)/.exec(text)?.[1];
  const gpus: GpuInfo[] = [];
  let pending: GpuInfo | undefined;
  for (const line of text.split(/\r?\n/)) {
    const nameRow = /^\|\s+(\d+)\s+(.+?)\s+(On|Off)\s+\|/.exec(line);
    if (nameRow) {
      pending = { name: (nameRow[2] ?? '').trim(), vendor: 'nvidia', backends: ['cuda', 'vulkan'], ...(driver ? { driver } : {}) };
      gpus.push(pending);
      continue;
    }
    const mem = /(\d+)MiB\s*\/\s*(\d+)MiB/.exec(line);
    if (mem && pending) {
      const used = Number(mem[1]);
      const total = Number(mem[2]);
      pending.vramBytes = total * 1024 * 1024;
      pending.vramFreeBytes = (total - used) * 1024 * 1024;
      pending = undefined;
    }
  }
  return gpus;
}
