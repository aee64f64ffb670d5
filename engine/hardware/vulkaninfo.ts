import type { GpuInfo } from './machine-info.js';

/**
 * `vulkaninfo --summary` ("GPU0:" blocks with "deviceType = PHYSICAL_DEVICE_TYPE_DISCRETE_GPU",
 * "deviceName = …", "driverName = …") and the device section of the full form ("deviceType     =
 * PHYSICAL_DEVICE_TYPE_CPU"). Real captures: test/fixtures/hardware/vulkaninfo-*.txt. CPU
 * implementations (llvmpipe, lavapipe) are not GPUs and are dropped.
 */
export function parseVulkanSummary(text: string): GpuInfo[] {
  const devices: Record<string, string>[] = [];
  let current: Record<string, string> | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (/^GPU\d+:\s*$/.test(line.trim())) {
      current = {};
      devices.push(current);
      continue;
    }
    const kv = /^\s+(\w+)\s*=\s*(.+)$/.exec(line);
    if (kv && current) current[kv[1] ?? ''] = (kv[2] ?? '').trim();
  }
  const gpus: GpuInfo[] = [];
  for (const d of devices) {
    const type = d['deviceType'] ?? '';
    const name = d['deviceName'];
    if (!name || /TYPE_CPU/.test(type) || /llvmpipe|lavapipe|SwiftShader/i.test(name)) continue;
    const vendor = vendorOf(d['vendorID'], name);
    const gpu: GpuInfo = { name, vendor, backends: ['vulkan'], api: `Vulkan ${(d['apiVersion'] ?? '').replace(/\s.*$/, '')}`.trim() };
    if (d['driverName']) gpu.driver = d['driverName'];
    gpus.push(gpu);
  }
  return gpus;
}

function vendorOf(id: string | undefined, name: string): GpuInfo['vendor'] {
  switch ((id ?? '').toLowerCase()) {
    case '0x10de':
      return 'nvidia';
    case '0x1002':
      return 'amd';
    case '0x8086':
      return 'intel';
    case '0x106b':
      return 'apple';
  }
  if (/nvidia|geforce/i.test(name)) return 'nvidia';
  if (/amd|radeon/i.test(name)) return 'amd';
  if (/intel/i.test(name)) return 'intel';
  if (/apple/i.test(name)) return 'apple';
  return 'other';
}
