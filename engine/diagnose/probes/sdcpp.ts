import type { Backend } from '../../recipe/recipe.types.gen.js';
import { isGpuBackend, type GpuBackend } from '../facts.js';
import type { Verdict } from '../verdict.js';
import { runProbeProcess, type ProbeProcessOptions } from './run-probe-process.js';

export interface GgmlDevice {
  name: string;
  description: string;
  backend: GpuBackend | 'cpu' | undefined;
}

/**
 * `sd-cli/sd-server --list-devices`: one `NAME<TAB>description` line per ggml device
 * (stable-diffusion.cpp examples/common); llama-server prints the same list as
 * "  MTL0: Apple M1 Max (26000 MiB, 25999 MiB free)" (AlexsJones/llmfit#570). Current ggml names the
 * Metal device MTL0, older builds "Metal": both count.
 */
export function parseDeviceList(text: string): GgmlDevice[] {
  const devices: GgmlDevice[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^([A-Za-z][A-Za-z_]*\d*)\t(.*)$/.exec(line) ?? /^\s+([A-Za-z][A-Za-z_]*\d*): (.+)$/.exec(line);
    if (!m) continue;
    const name = m[1] ?? '';
    devices.push({ name, description: (m[2] ?? '').trim(), backend: deviceBackend(name) });
  }
  return devices;
}

function deviceBackend(name: string): GgmlDevice['backend'] {
  if (/^(MTL|Metal)/i.test(name)) return 'metal';
  if (/^CUDA/i.test(name)) return 'cuda';
  if (/^Vulkan/i.test(name)) return 'vulkan';
  if (/^(ROCm|HIP)/i.test(name)) return 'rocm';
  if (/^CPU/i.test(name)) return 'cpu';
  return undefined;
}

export async function probeSdcpp(binary: string, expect: Backend, o: ProbeProcessOptions): Promise<Verdict> {
  const run = await runProbeProcess([binary, '--list-devices'], o);
  return deviceListVerdict(parseDeviceList(run.output), expect, run.output);
}

export function deviceListVerdict(devices: GgmlDevice[], expect: Backend, output = ''): Verdict {
  const evidence = devices.map((d) => `${d.name}\t${d.description}`);
  // llama-server built without any GPU backend lists no device at all: "Available devices:" then "(none)".
  if (devices.length === 0 && /^Available devices:\s*\r?\n\s*\(none\)\s*$/m.test(output)) {
    return {
      backend: 'cpu',
      fallback: isGpuBackend(expect) ? 'full' : 'none',
      evidence: ['Available devices: (none)'],
      advice: isGpuBackend(expect) ? [`This llama.cpp build has no GPU backend: rebuild it with ${ggmlFlag(expect)}.`] : [],
    };
  }
  if (devices.length === 0) {
    return {
      backend: 'unknown',
      fallback: isGpuBackend(expect) ? 'full' : 'none',
      evidence: output
        .split(/\r?\n/)
        .filter((l) => l.trim())
        .slice(-3),
      advice: ['The binary listed no devices: check that it is a stable-diffusion.cpp build that supports --list-devices.'],
    };
  }
  const gpus = devices.filter((d) => d.backend !== undefined && d.backend !== 'cpu');
  const wanted = isGpuBackend(expect) ? gpus.find((d) => d.backend === expect) : undefined;
  const chosen = wanted ?? gpus[0];
  if (chosen?.backend && chosen.backend !== 'cpu') {
    const v: Verdict = {
      backend: chosen.backend,
      fallback: 'none',
      evidence,
      advice: [`Pass --backend ${chosen.name.toLowerCase()} explicitly when starting it (auto can land on the CPU).`],
    };
    if (isGpuBackend(expect) && chosen.backend !== expect) v.advice.push(`Expected ${expect}, but the build only has ${chosen.backend}.`);
    return v;
  }
  return {
    backend: 'cpu',
    fallback: isGpuBackend(expect) ? 'full' : 'none',
    evidence,
    advice: isGpuBackend(expect)
      ? [
          'This stable-diffusion.cpp build has only the CPU device: rebuild it with ' +
            `${expect === 'metal' ? '-DSD_METAL=ON' : expect === 'cuda' ? '-DSD_CUDA=ON' : `the ${expect} backend`}.`,
        ]
      : [],
  };
}

function ggmlFlag(expect: Backend): string {
  if (expect === 'metal') return '-DGGML_METAL=ON';
  if (expect === 'cuda') return '-DGGML_CUDA=ON';
  return `the ${expect} backend`;
}
