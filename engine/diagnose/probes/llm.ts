import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../../recipe/recipe.types.gen.js';
import { isGpuBackend } from '../facts.js';
import type { Verdict } from '../verdict.js';
import { probeJson, runProbeProcess, type ProbeProcessOptions } from './run-probe-process.js';

export interface LlmProbeReport {
  gpu: string | false;
  supportsGpuOffloading: boolean;
  gpuDeviceNames: string[];
  buildType: string;
  gpuLayers: number;
  totalLayers: number;
}

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'llm-probe-child.js');

/** Load the model in a child Node process (with a timeout) and report llama.gpu and the offloaded layers. */
export async function probeLlm(model: string, expect: Backend, o: ProbeProcessOptions): Promise<Verdict> {
  const run = await runProbeProcess([process.execPath, CHILD, model], o);
  const report = probeJson<LlmProbeReport>(run.output);
  if (!report) {
    return {
      backend: 'unknown',
      fallback: isGpuBackend(expect) ? 'full' : 'none',
      evidence: [
        run.timedOut
          ? `loading ${model} timed out after ${Math.round(o.timeoutMs / 1000)} s`
          : `loading ${model} failed (exit ${run.exitCode ?? '?'})`,
        ...run.output
          .split(/\r?\n/)
          .filter((l) => l.trim())
          .slice(-3),
      ],
      advice: [
        'Check that the model file is a complete GGUF (the fetch step verifies its sha256) and that node-llama-cpp has a ' +
          'prebuilt binary for this machine.',
      ],
    };
  }
  return llmVerdict(report, expect);
}

export function llmVerdict(r: LlmProbeReport, expect: Backend): Verdict {
  const evidence = [
    `llama.gpu = ${r.gpu === false ? 'false' : JSON.stringify(r.gpu)} (${r.buildType} build` +
      `${r.gpuDeviceNames.length ? `, ${r.gpuDeviceNames.join(', ')}` : ''})`,
    `model.gpuLayers = ${r.gpuLayers} of model.fileInsights.totalLayers = ${r.totalLayers}`,
  ];
  const expectGpu = isGpuBackend(expect);
  if (r.gpu === false) {
    return {
      backend: 'cpu',
      fallback: expectGpu ? 'full' : 'none',
      evidence,
      advice: expectGpu
        ? [
            `node-llama-cpp loaded no GPU backend (expected ${expect}): on a Mac it needs the Metal prebuilt ` +
              '(@node-llama-cpp/mac-arm64-metal); on Linux a CUDA/Vulkan prebuilt and a working driver.',
          ]
        : [],
    };
  }
  const backend: Backend = r.gpu === 'metal' || r.gpu === 'cuda' || r.gpu === 'vulkan' ? r.gpu : 'unknown';
  const offload = { layers: r.gpuLayers, total: r.totalLayers };
  if (r.gpuLayers === 0) {
    return {
      backend: 'cpu',
      fallback: 'full',
      offload,
      evidence,
      advice: ['The GPU backend loaded but no layer was offloaded: free GPU memory or use a smaller quantisation.'],
    };
  }
  if (r.gpuLayers < r.totalLayers) {
    return {
      backend,
      fallback: 'partial',
      offload,
      evidence,
      advice: [
        `Only ${r.gpuLayers} of ${r.totalLayers} layers fit on the GPU: use a smaller quantisation or context, or raise the GPU ` +
          'memory limit (see orchard doctor).',
      ],
    };
  }
  return {
    backend,
    fallback: 'none',
    offload,
    evidence,
    advice: expectGpu && backend !== expect ? [`Expected ${expect}, but the model loaded on ${backend}.`] : [],
  };
}
