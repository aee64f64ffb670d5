import path from 'node:path';
import { repoRoot } from '../../core/repo-root.js';
import type { Backend } from '../../recipe/recipe.types.gen.js';
import type { Verdict } from '../verdict.js';
import { probeJson, runProbeProcess, type ProbeProcessOptions } from './run-probe-process.js';

/** What mlx_probe.py prints: MLX's own answers as Python prints them (repr), plus matmul timings. */
export interface MlxProbeReport {
  python?: string;
  machine?: string;
  mlx: string | null;
  error?: string;
  /** repr(mx.default_device()), e.g. `Device(gpu, 0)`. */
  default_device?: string;
  default_device_error?: string;
  /** repr(mx.metal.is_available()): `True` / `False`. */
  metal_available?: string;
  metal_available_error?: string;
  /** repr(mx.cuda.is_available()) on builds that have it. */
  cuda_available?: string;
  /** repr(mx.device_info()) (or mx.metal.device_info() before mlx 0.30): a Python dict. */
  device_info?: string;
  device_info_error?: string;
  gpu_matmul_ms?: number;
  gpu_matmul_error?: string;
  cpu_matmul_ms?: number;
  cpu_matmul_error?: string;
}

/** The fields of MLX's device info Orchard uses (all optional: older MLX reports fewer). */
export interface MlxDeviceInfo {
  architecture?: string;
  deviceName?: string;
  memorySize?: number;
  maxRecommendedWorkingSetSize?: number;
  maxBufferLength?: number;
}

export function mlxProbeScript(): string {
  return path.join(repoRoot(), 'engine', 'diagnose', 'probes', 'mlx_probe.py');
}

/** Run the probe with the app's `python` (its venv is first on PATH in `env`), or the one given. */
export async function probeMlx(expect: Backend, o: ProbeProcessOptions & { python?: string }): Promise<Verdict> {
  const run = await runProbeProcess([o.python ?? 'python', mlxProbeScript()], o);
  const report = probeJson<MlxProbeReport>(run.output);
  if (!report) {
    return {
      backend: 'unknown',
      fallback: expect === 'cpu' ? 'none' : 'full',
      evidence: [
        run.timedOut
          ? `the MLX probe timed out after ${Math.round(o.timeoutMs / 1000)} s`
          : `the MLX probe failed (exit ${run.exitCode ?? '?'})`,
        ...run.output
          .split(/\r?\n/)
          .filter((l) => l.trim())
          .slice(-3),
      ],
      advice: ['Check that the app environment has a working `python` (the env step) and run the install again.'],
    };
  }
  return mlxVerdict(report, expect);
}

/**
 * The verdict from MLX's own answers. MLX computes on `mx.default_device()`: `Device(gpu, 0)` with
 * Metal available is the Apple GPU. Anything else is a CPU run, and for an MLX app that is always
 * a full fallback (MLX is only worth it on the GPU) unless the recipe itself expects the CPU.
 */
export function mlxVerdict(r: MlxProbeReport, expect: Backend): Verdict {
  const fallbackIfCpu = expect === 'cpu' ? 'none' : 'full';
  if (r.mlx === null) {
    return {
      backend: 'unknown',
      fallback: fallbackIfCpu,
      evidence: [
        `mlx missing: ${r.error ?? 'import mlx.core failed'}${r.python ? ` (python ${r.python}${r.machine ? `, ${r.machine}` : ''})` : ''}`,
      ],
      advice: [
        'mlx is not installed in the app environment: the recipe must pip-install it (macOS 14+ on Apple Silicon, with an arm64 Python).',
      ],
    };
  }
  const device = r.default_device ?? (r.default_device_error ? `error: ${r.default_device_error}` : '?');
  const metal = r.metal_available ?? (r.metal_available_error ? `error: ${r.metal_available_error}` : '?');
  const evidence = [`mlx ${r.mlx}`, `mx.default_device() = ${device}`, `mx.metal.is_available() = ${metal}`];
  if (r.cuda_available !== undefined) evidence.push(`mx.cuda.is_available() = ${r.cuda_available}`);
  const info = r.device_info ? parseDeviceInfo(r.device_info) : undefined;
  if (r.device_info) evidence.push(`device info: ${r.device_info}`);
  else if (r.device_info_error) evidence.push(`device info: ${r.device_info_error}`);
  const timing = matmulEvidence(r);
  if (timing) evidence.push(timing);

  const onGpu = /^Device\(gpu, \d+\)$/.test(r.default_device ?? '');
  const metalOn = r.metal_available === 'True';
  const cudaOn = r.cuda_available === 'True';
  if (onGpu && (metalOn || cudaOn)) {
    const backend: Backend = metalOn ? 'metal' : 'cuda';
    if (r.gpu_matmul_error) {
      return {
        backend: 'cpu',
        fallback: fallbackIfCpu,
        evidence: [...evidence, `a matmul on the GPU failed: ${r.gpu_matmul_error}`],
        advice: ['MLX sees the GPU but cannot compute on it: update macOS and mlx, and check `orchard doctor`.'],
      };
    }
    const v: Verdict = { backend, fallback: 'none', evidence, advice: [] };
    if (expect !== 'unknown' && expect !== 'cpu' && backend !== expect)
      v.advice.push(`Expected ${expect}, but MLX computes on ${backend}.`);
    if (info?.maxRecommendedWorkingSetSize !== undefined && info.memorySize !== undefined) {
      v.advice.push(
        `The GPU may use ${gb(info.maxRecommendedWorkingSetSize)} of ${gb(info.memorySize)} (its working-set limit); larger ` +
          'models need iogpu.wired_limit_mb raised (orchard fit says by how much).',
      );
    }
    return v;
  }
  const advice: string[] = [];
  if (metalOn)
    advice.push(
      'Metal is available but MLX computes on the CPU: remove mx.set_default_device(mx.cpu) (or MLX_DEFAULT_DEVICE / --device ' +
        'cpu) from the app.',
    );
  else if (/without metal backend/i.test(r.device_info_error ?? '') || r.metal_available === 'False') {
    advice.push(
      'This MLX has no Metal backend: run it on an Apple Silicon Mac (macOS 14+) with a native arm64 Python, not Rosetta and not Linux.',
    );
  } else advice.push('MLX does not compute on a GPU here; reinstall mlx in the app environment on Apple Silicon.');
  return { backend: 'cpu', fallback: fallbackIfCpu, evidence, advice };
}

function matmulEvidence(r: MlxProbeReport): string | undefined {
  const parts: string[] = [];
  if (r.gpu_matmul_ms !== undefined) parts.push(`${r.gpu_matmul_ms} ms on gpu`);
  if (r.cpu_matmul_ms !== undefined) parts.push(`${r.cpu_matmul_ms} ms on cpu`);
  if (parts.length === 0) return undefined;
  const ratio = r.gpu_matmul_ms && r.cpu_matmul_ms ? ` (gpu ${(r.cpu_matmul_ms / r.gpu_matmul_ms).toFixed(1)}× faster)` : '';
  return `1024×1024 matmul: ${parts.join(', ')}${ratio}`;
}

/**
 * Parse the repr of MLX's device-info dict, e.g.
 * `{'max_recommended_working_set_size': 188743680000, 'max_buffer_length': 115964116992, 'architecture': 'applegpu_g14d'}`.
 * Only flat str/int values occur; anything else is ignored.
 */
export function parseDeviceInfo(repr: string): MlxDeviceInfo {
  const values = new Map<string, string | number>();
  for (const m of repr.matchAll(/'([A-Za-z_]+)':\s*(?:'([^']*)'|(-?\d+))/g)) {
    const key = m[1];
    if (key === undefined) continue;
    values.set(key, m[2] !== undefined ? m[2] : Number(m[3]));
  }
  const num = (k: string): number | undefined => (typeof values.get(k) === 'number' ? (values.get(k) as number) : undefined);
  const str = (k: string): string | undefined => (typeof values.get(k) === 'string' ? (values.get(k) as string) : undefined);
  const out: MlxDeviceInfo = {};
  const architecture = str('architecture');
  const deviceName = str('device_name');
  const memorySize = num('memory_size');
  const workingSet = num('max_recommended_working_set_size');
  const maxBuffer = num('max_buffer_length');
  if (architecture !== undefined) out.architecture = architecture;
  if (deviceName !== undefined) out.deviceName = deviceName;
  if (memorySize !== undefined) out.memorySize = memorySize;
  if (workingSet !== undefined) out.maxRecommendedWorkingSetSize = workingSet;
  if (maxBuffer !== undefined) out.maxBufferLength = maxBuffer;
  return out;
}

function gb(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
