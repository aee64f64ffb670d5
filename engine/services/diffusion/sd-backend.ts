import type { Backend } from '../../recipe/recipe.types.gen.js';

/** The explicit `--backend` names Orchard passes to sd.cpp. Never `auto`: it silently lands on the CPU. */
export type SdBackend = 'metal' | 'cuda0' | 'vulkan0' | 'cpu';
export const SD_BACKENDS: readonly SdBackend[] = ['metal', 'cuda0', 'vulkan0', 'cpu'];

export function isSdBackend(value: string): value is SdBackend {
  return (SD_BACKENDS as readonly string[]).includes(value);
}

/**
 * Accept the accelerator names recipes use ({{accelerator}}: cuda, vulkan) as the first device of
 * that kind, as sd.cpp itself resolves them; anything else must already be an sd.cpp name.
 */
export function toSdBackend(value: string): SdBackend | undefined {
  const alias: Record<string, SdBackend> = { cuda: 'cuda0', vulkan: 'vulkan0' };
  const name = alias[value] ?? value;
  return isSdBackend(name) ? name : undefined;
}

/** What this platform is expected to run on when the user did not say. */
export function defaultSdBackend(platform: NodeJS.Platform = process.platform): SdBackend {
  return platform === 'darwin' ? 'metal' : 'cuda0';
}

/** The verdict's backend family for an sd.cpp backend name. */
export function verdictBackend(backend: SdBackend): Backend {
  if (backend === 'metal') return 'metal';
  if (backend === 'cuda0') return 'cuda';
  if (backend === 'vulkan0') return 'vulkan';
  return 'cpu';
}

/**
 * Does a `--list-devices` device name satisfy the backend? Current ggml names Metal `MTL0` (older
 * builds said `Metal`); CUDA devices are `CUDA0…`, Vulkan `Vulkan0…`; the CPU device is always usable.
 */
export function deviceMatches(backend: SdBackend, deviceName: string): boolean {
  const name = deviceName.toLowerCase();
  if (backend === 'metal') return /^mtl\d*$/.test(name) || name.startsWith('metal');
  if (backend === 'cuda0') return /^cuda\d+$/.test(name);
  if (backend === 'vulkan0') return /^vulkan\d+$/.test(name);
  return name === 'cpu';
}

/** Any GPU-like device in a listing (for advice when the user chose the CPU). */
export function isGpuDevice(deviceName: string): boolean {
  return /^(mtl\d*|metal|cuda\d+|vulkan\d+|rocm\d+|hip\d+|sycl\d+)/i.test(deviceName);
}
