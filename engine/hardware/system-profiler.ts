import type { GpuInfo } from './machine-info.js';

/**
 * `system_profiler SPDisplaysDataType -json` (and its older text form). Real captures:
 * test/fixtures/hardware/system-profiler-*.txt. Keys seen there: "_name", "sppci_model",
 * "sppci_cores", "spdisplays_mtlgpufamilysupport" ("spdisplays_metal3"), "spdisplays_metalfamily"
 * ("spdisplays_mtlgpufamilyapple7"), "spdisplays_vendor"; text form: "Chipset Model:",
 * "VRAM (Total): 16 GB", "Metal: Supported, feature set macOS GPUFamily2 v1".
 * Pasted or cut-off JSON still yields what it contains: whole JSON first, else top-level key scan.
 */
export function parseDisplays(text: string): GpuInfo[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const doc = JSON.parse(trimmed) as { SPDisplaysDataType?: Record<string, unknown>[] };
      return (doc.SPDisplaysDataType ?? []).map((item) => gpuFromEntries(item)).filter((g): g is GpuInfo => g !== undefined);
    } catch {
      return scanJsonLike(trimmed);
    }
  }
  return parseText(trimmed);
}

function scanJsonLike(text: string): GpuInfo[] {
  // Only the GPU-level keys (indented one level inside the array), not the displays nested below.
  const items: Record<string, unknown>[] = [];
  let current: Record<string, unknown> | undefined;
  let depth = 0;
  for (const line of text.split(/\r?\n/)) {
    const opens = (line.match(/[{[]/g) ?? []).length;
    const closes = (line.match(/[}\]]/g) ?? []).length;
    const kv = /^\s*"([^"]+)"\s*:\s*"([^"]*)"/.exec(line);
    if (depth === 2 && /^\s*\{/.test(line)) {
      current = {};
      items.push(current);
    } else if (kv && current && depth === 3) {
      current[kv[1] ?? ''] = kv[2];
    }
    depth += opens - closes;
  }
  return items.map((i) => gpuFromEntries(i)).filter((g): g is GpuInfo => g !== undefined);
}

function gpuFromEntries(item: Record<string, unknown>): GpuInfo | undefined {
  const str = (k: string): string | undefined => (typeof item[k] === 'string' ? (item[k] as string) : undefined);
  const rawName = str('sppci_model') ?? str('_name');
  if (!rawName) return undefined;
  const name = prettyName(rawName);
  const vendor = vendorOf(name, str('spdisplays_vendor'));
  const gpu: GpuInfo = { name, vendor, backends: [] };
  const cores = str('sppci_cores');
  if (cores && /^\d+$/.test(cores)) gpu.cores = Number(cores);
  const metal = metalName(str('spdisplays_mtlgpufamilysupport') ?? str('spdisplays_metalfamily') ?? str('spdisplays_metal'));
  if (metal) {
    gpu.api = metal;
    gpu.backends.push('metal');
  }
  const vram = str('spdisplays_vram') ?? str('_spdisplays_vram');
  const bytes = vram ? sizeBytes(vram) : undefined;
  if (bytes !== undefined && vendor !== 'apple') gpu.vramBytes = bytes;
  return gpu;
}

function parseText(text: string): GpuInfo[] {
  const gpus: GpuInfo[] = [];
  let current: GpuInfo | undefined;
  for (const line of text.split(/\r?\n/)) {
    const field = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!field) continue;
    const [key, value] = [field[1]?.trim() ?? '', field[2]?.trim() ?? ''];
    if (key === 'Chipset Model') {
      current = { name: value, vendor: vendorOf(value, undefined), backends: [] };
      gpus.push(current);
    } else if (current && key === 'Vendor') {
      current.vendor = vendorOf(current.name, value);
    } else if (current && /^VRAM/.test(key)) {
      const bytes = sizeBytes(value);
      if (bytes !== undefined) current.vramBytes = bytes;
    } else if (current && key === 'Total Number of Cores' && /^\d+/.test(value)) {
      current.cores = parseInt(value, 10);
    } else if (current && /^Metal/.test(key) && !/not supported/i.test(value)) {
      current.api = /Metal \d/.test(value) ? (/Metal \d/.exec(value)?.[0] ?? 'Metal') : 'Metal';
      current.backends.push('metal');
    }
  }
  return gpus;
}

/** "kHW_AppleM1Item" → "Apple M1"; other names unchanged. */
function prettyName(name: string): string {
  const k = /^kHW_(.+)Item$/.exec(name);
  if (!k) return name;
  return (k[1] ?? name).replace(/^Apple(M\d)/, 'Apple $1').replace(/([a-z])([A-Z])/g, '$1 $2');
}

function metalName(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const v = /metal(\d+)$/.exec(value);
  if (v) return `Metal ${v[1]}`;
  if (/mtlgpufamily|metalfeatureset|supported/.test(value)) return 'Metal';
  return undefined;
}

function vendorOf(name: string, vendorField: string | undefined): GpuInfo['vendor'] {
  const s = `${vendorField ?? ''} ${name}`.toLowerCase();
  if (s.includes('apple')) return 'apple';
  if (s.includes('nvidia') || s.includes('geforce')) return 'nvidia';
  if (s.includes('amd') || s.includes('radeon') || s.includes('0x1002')) return 'amd';
  if (s.includes('intel')) return 'intel';
  return 'other';
}

function sizeBytes(text: string): number | undefined {
  const m = /([\d.]+)\s*(GB|MB)/i.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (m[2]?.toUpperCase() === 'GB' ? 1024 ** 3 : 1024 ** 2));
}
