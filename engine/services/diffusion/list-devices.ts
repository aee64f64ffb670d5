import { execa } from 'execa';
import { OrchardError } from '../../core/errors.js';
import type { Verdict } from '../../diagnose/verdict.js';
import { deviceMatches, isGpuDevice, verdictBackend, type SdBackend } from './sd-backend.js';

export interface SdDevice {
  name: string;
  description: string;
  /** The line as printed, for evidence. */
  line: string;
}

/** `sd-server --list-devices` prints one "name<TAB>description" line per ggml device and exits. */
export function parseDeviceListing(stdout: string): SdDevice[] {
  return stdout
    .split(/\r?\n/)
    .filter((line) => line.includes('\t'))
    .map((line) => {
      const tab = line.indexOf('\t');
      return { name: line.slice(0, tab).trim(), description: line.slice(tab + 1).trim(), line };
    })
    .filter((d) => d.name !== '');
}

export async function listDevices(sdServer: string, env: NodeJS.ProcessEnv = process.env): Promise<SdDevice[]> {
  const result = await execa(sdServer, ['--list-devices'], { reject: false, timeout: 60_000, env, extendEnv: false, all: true });
  if (result.failed || result.exitCode !== 0) {
    throw new OrchardError('BACKEND', `sd-server --list-devices failed (${result.signal ?? `exit ${String(result.exitCode)}`})`, {
      where: sdServer,
      hint: `Rebuild the engine for this machine; its output was: ${(result.all ?? '').split('\n').slice(-5).join(' | ') || '(nothing)'}`,
    });
  }
  return parseDeviceListing(result.stdout);
}

/**
 * The preflight verdict (DESIGN §5): the expected device must be listed. A missing GPU device is a
 * full fallback: the service refuses to start rather than run silently on the CPU.
 */
export function preflightVerdict(backend: SdBackend, devices: SdDevice[]): Verdict {
  const evidence = devices.length > 0 ? devices.map((d) => `${d.name}\t${d.description}`) : ['--list-devices printed no device'];
  const found = devices.find((d) => deviceMatches(backend, d.name));
  if (backend === 'cpu') {
    const gpu = devices.find((d) => isGpuDevice(d.name));
    return {
      backend: 'cpu',
      fallback: gpu ? 'full' : 'none',
      evidence,
      advice: gpu
        ? [
            `A GPU device is available (${gpu.name}: ${gpu.description}); start with --backend ` +
              `${gpu.name.toLowerCase().startsWith('mtl') ? 'metal' : gpu.name.toLowerCase()} to use it.`,
          ]
        : [],
    };
  }
  if (found) return { backend: verdictBackend(backend), fallback: 'none', evidence, advice: [] };
  return {
    backend: 'cpu',
    fallback: 'full',
    evidence,
    advice: [
      `sd-server lists no ${backend === 'metal' ? 'Metal (MTL*)' : backend === 'cuda0' ? 'CUDA' : 'Vulkan'} device: this build ` +
        'or this machine would run on the CPU only.',
      backend === 'metal'
        ? 'Rebuild stable-diffusion.cpp with -DSD_METAL=ON (release binaries for macOS have Metal disabled).'
        : backend === 'cuda0'
          ? 'Rebuild stable-diffusion.cpp with -DSD_CUDA=ON and check the NVIDIA driver (nvidia-smi).'
          : 'Rebuild stable-diffusion.cpp with -DSD_VULKAN=ON and check the Vulkan driver (vulkaninfo).',
      'To run on the CPU anyway (much slower), start the service with --backend cpu.',
    ],
  };
}
