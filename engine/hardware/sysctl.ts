/**
 * `sysctl` output, either `key: value` lines or the `key: old -> new` line printed when a value is
 * set. Real captures: test/fixtures/hardware/sysctl-*.txt (e.g. "hw.memsize: 8589934592",
 * "machdep.cpu.brand_string: Apple M1", "iogpu.wired_limit_mb: 26000 -> 26000").
 * Lines may carry a prefix (CI logs add "[00:02:24] "); keys are dotted lowercase names.
 */
export function parseSysctl(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const m = /(?:^|\s)([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+):\s?(.*)$/.exec(raw.trim());
    if (!m) continue;
    const key = m[1] ?? '';
    let value = (m[2] ?? '').trim();
    const set = /^(.*?)\s*->\s*(.*)$/.exec(value);
    if (set) value = (set[2] ?? '').trim();
    values.set(key, value);
  }
  return values;
}

export interface MacSysctlFacts {
  memBytes?: number;
  model?: string;
  cpuBrand?: string;
  cpuCores?: number;
  /** iogpu.wired_limit_mb; 0 means "the macOS default". Undefined when the key does not exist (Intel Macs, old macOS). */
  wiredLimitMb?: number;
}

export function macSysctlFacts(values: Map<string, string>): MacSysctlFacts {
  const int = (key: string): number | undefined => {
    const v = values.get(key);
    if (v === undefined || !/^\d+$/.test(v)) return undefined;
    return Number(v);
  };
  const facts: MacSysctlFacts = {};
  const mem = int('hw.memsize');
  if (mem !== undefined) facts.memBytes = mem;
  const model = values.get('hw.model');
  if (model) facts.model = model;
  const brand = values.get('machdep.cpu.brand_string');
  if (brand) facts.cpuBrand = brand;
  const cores = int('hw.ncpu') ?? int('machdep.cpu.core_count');
  if (cores !== undefined) facts.cpuCores = cores;
  const wired = int('iogpu.wired_limit_mb');
  if (wired !== undefined) facts.wiredLimitMb = wired;
  return facts;
}

/** The keys the probe asks for, in one `sysctl` call. */
export const MAC_SYSCTL_KEYS = ['hw.memsize', 'hw.model', 'machdep.cpu.brand_string', 'hw.ncpu', 'iogpu.wired_limit_mb'] as const;
