/**
 * Linux /proc/meminfo ("MemTotal:       16268680 kB"). Old kernels have no MemAvailable
 * (test/fixtures/hardware/meminfo-openwrt-no-available.txt): then free + buffers + cached.
 */
export function parseMeminfo(text: string): { totalBytes: number; availableBytes?: number } | undefined {
  const kb = new Map<string, number>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?/.exec(line.trim());
    if (m) kb.set(m[1] ?? '', Number(m[2]));
  }
  const total = kb.get('MemTotal');
  if (total === undefined) return undefined;
  const available = kb.get('MemAvailable') ?? sumIfAny(kb, ['MemFree', 'Buffers', 'Cached']);
  return { totalBytes: total * 1024, ...(available !== undefined ? { availableBytes: available * 1024 } : {}) };
}

function sumIfAny(kb: Map<string, number>, keys: string[]): number | undefined {
  if (!kb.has(keys[0] ?? '')) return undefined;
  return keys.reduce((s, k) => s + (kb.get(k) ?? 0), 0);
}
