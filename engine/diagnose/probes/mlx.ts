import type { Backend } from '../../recipe/recipe.types.gen.js';
import { isGpuBackend } from '../facts.js';
import type { Verdict } from '../verdict.js';
import { probeJson, runProbeProcess, type ProbeProcessOptions } from './run-probe-process.js';

const SCRIPT = [
  'import json',
  'try:',
  '    import mlx.core as mx',
  'except Exception as e:',
  '    print("ORCHARD_PROBE " + json.dumps({"mlx": None, "error": "%s: %s" % (type(e).__name__, e)}))',
  'else:',
  '    a = mx.ones((256, 256)); mx.eval(a @ a)',
  '    print("ORCHARD_PROBE " + json.dumps({"mlx": getattr(mx, "__version__", "?"), "device": str(mx.default_device()), "metal": bool(mx.metal.is_available())}))',
].join('\n');

interface MlxReport {
  mlx: string | null;
  error?: string;
  device?: string;
  metal?: boolean;
}

/** MLX computes on the default device: `Device(gpu, 0)` on Apple Silicon with Metal. */
export async function probeMlx(expect: Backend, o: ProbeProcessOptions): Promise<Verdict> {
  const run = await runProbeProcess(['python', '-c', SCRIPT], o);
  const r = probeJson<MlxReport>(run.output);
  const expectGpu = isGpuBackend(expect);
  if (!r || r.mlx === null) {
    return {
      backend: 'unknown',
      fallback: expectGpu ? 'full' : 'none',
      evidence: [r?.error ? `mlx missing: ${r.error}` : `the MLX probe failed (exit ${run.exitCode ?? '?'})`],
      advice: ['Install mlx in the app environment (Apple Silicon, macOS 14+, arm64 Python).'],
    };
  }
  const evidence = [`mlx ${r.mlx}`, `mx.default_device() = ${r.device ?? '?'}`, `mx.metal.is_available() = ${r.metal ? 'True' : 'False'}`];
  if (r.metal && /gpu/i.test(r.device ?? '')) return { backend: 'metal', fallback: 'none', evidence, advice: [] };
  return { backend: 'cpu', fallback: expectGpu || r.metal ? 'full' : 'none', evidence, advice: ['MLX computes on the CPU: use an Apple Silicon Mac with Metal and do not set the default device to mx.cpu.'] };
}
