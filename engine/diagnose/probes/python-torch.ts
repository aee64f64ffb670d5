import path from 'node:path';
import { repoRoot } from '../../core/repo-root.js';
import type { Backend } from '../../recipe/recipe.types.gen.js';
import { isGpuBackend } from '../facts.js';
import type { Verdict } from '../verdict.js';
import { probeJson, runProbeProcess, type ProbeProcessOptions } from './run-probe-process.js';

/** What torch_probe.py prints (see that file). */
export interface TorchProbeReport {
  python: string;
  torch: string | null;
  error?: string;
  cuda_build?: string | null;
  mps_built?: boolean;
  mps_available?: boolean;
  cuda_available?: boolean;
  cuda_device?: string;
  device?: 'cuda' | 'mps' | 'cpu';
  cpu_matmul_ms?: number;
  device_matmul_ms?: number;
  device_matmul_error?: string;
}

export function torchProbeScript(): string {
  return path.join(repoRoot(), 'engine', 'diagnose', 'probes', 'torch_probe.py');
}

/** Run the probe with the app's `python` (its venv is first on PATH in `env`). */
export async function probePythonTorch(expect: Backend, o: ProbeProcessOptions): Promise<Verdict> {
  const run = await runProbeProcess(['python', torchProbeScript()], o);
  const report = probeJson<TorchProbeReport>(run.output);
  if (!report) {
    return {
      backend: 'unknown',
      fallback: isGpuBackend(expect) ? 'full' : 'none',
      evidence: [
        run.timedOut
          ? `the torch probe timed out after ${Math.round(o.timeoutMs / 1000)} s`
          : `the torch probe failed (exit ${run.exitCode ?? '?'})`,
        ...lastLines(run.output, 3),
      ],
      advice: ['Check that the app environment has a working `python` (the env step) and run the install again.'],
    };
  }
  return torchVerdict(report, expect);
}

export function torchVerdict(r: TorchProbeReport, expect: Backend): Verdict {
  const expectGpu = isGpuBackend(expect);
  if (r.torch === null) {
    return {
      backend: 'unknown',
      fallback: expectGpu ? 'full' : 'none',
      evidence: [`torch missing: ${r.error ?? 'import torch failed'} (python ${r.python})`],
      advice: [
        'torch is not installed in the app environment: the recipe must install it (Metal: the default macOS arm64 wheel; CUDA: ' +
          'the wheel from https://download.pytorch.org/whl/cu12x).',
      ],
    };
  }
  const evidence = [
    `torch ${r.torch}${r.cuda_build ? ` (CUDA ${r.cuda_build} build)` : ''}`,
    `torch.backends.mps.is_built() = ${py(r.mps_built)}, is_available() = ${py(r.mps_available)}`,
    `torch.cuda.is_available() = ${py(r.cuda_available)}${r.cuda_device ? ` (${r.cuda_device})` : ''}`,
  ];
  const device = r.device ?? 'cpu';
  if (device !== 'cpu') {
    const backend: Backend = device === 'cuda' ? (/rocm|hip/i.test(r.torch) ? 'rocm' : 'cuda') : 'metal';
    if (r.device_matmul_error) {
      return {
        backend: 'cpu',
        fallback: 'full',
        evidence: [...evidence, `a 512×512 matmul on ${device} failed: ${r.device_matmul_error}`],
        advice: [`torch sees ${device} but cannot compute on it: update the GPU driver / macOS and torch.`],
      };
    }
    evidence.push(`512×512 matmul: ${r.device_matmul_ms ?? '?'} ms on ${device}, ${r.cpu_matmul_ms ?? '?'} ms on cpu`);
    const v: Verdict = { backend, fallback: 'none', evidence, advice: [] };
    if (expectGpu && backend !== expect) v.advice.push(`Expected ${expect}, but torch uses ${backend}.`);
    return v;
  }
  if (r.cpu_matmul_ms !== undefined) evidence.push(`512×512 matmul: ${r.cpu_matmul_ms} ms on cpu`);
  const gpuBuilt = r.mps_built === true || Boolean(r.cuda_build);
  const advice: string[] = [];
  if (r.mps_built && !r.mps_available)
    advice.push('torch has MPS built in but macOS does not offer it: use an arm64 (not Rosetta) Python on macOS 14+ and a current torch.');
  else if (r.cuda_build && !r.cuda_available)
    advice.push('torch is a CUDA build but finds no GPU: check `nvidia-smi` and that the driver supports this CUDA version.');
  else if (expect === 'cuda')
    advice.push(
      `torch ${r.torch} is a CPU-only build: reinstall torch from https://download.pytorch.org/whl/cu12x in the app environment.`,
    );
  else if (expect === 'metal')
    advice.push(`torch ${r.torch} has no MPS: on Apple Silicon install the standard macOS arm64 torch wheel in the app environment.`);
  return { backend: 'cpu', fallback: expectGpu || gpuBuilt ? 'full' : 'none', evidence, advice };
}

function py(v: boolean | undefined): string {
  return v ? 'True' : 'False';
}

function lastLines(text: string, n: number): string[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .slice(-n);
}
