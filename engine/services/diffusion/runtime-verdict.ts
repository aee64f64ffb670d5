import type { Verdict } from '../../diagnose/verdict.js';
import type { MemoryPlacement } from './diffusion-engine.js';

/**
 * Refine the preflight verdict with what sd-server logged while loading and running: any compute
 * buffer in RAM means that runner computes on the CPU; weights in RAM mean a module sits in system
 * memory (expected with --offload-to-cpu, which keeps compute on the GPU, so only reported then).
 * The supervisor's live diagnoser (engine/diagnose) reads the same lines for the app's verdict in the API; this
 * reading is the service's own /health view, and it also knows the launch flags (--offload-to-cpu), which a log does not show.
 */
export function runtimeVerdict(preflight: Verdict, memory: MemoryPlacement, opts: { offloadToCpu: boolean }): Verdict {
  if (preflight.backend === 'cpu' || preflight.fallback === 'full') {
    return { ...preflight, evidence: [...preflight.evidence, ...memory.evidence] };
  }
  const advice = [...preflight.advice];
  let fallback: Verdict['fallback'] = preflight.fallback;
  const ramCompute = memory.compute.filter((c) => c.where === 'RAM');
  const vramCompute = memory.compute.filter((c) => c.where === 'VRAM');
  if (ramCompute.length > 0) {
    fallback = vramCompute.length === 0 ? 'full' : 'partial';
    advice.push(
      `${ramCompute.map((c) => c.runner).join(', ')} computed on the CPU (compute buffer in RAM): do not pass ` +
        '--clip-on-cpu/--vae-on-cpu, or rebuild with GPU support for these operators.',
    );
  }
  const ramParams = memory.params.filter((p) => p.where === 'RAM' && p.mb > 0);
  if (ramParams.length > 0 && !opts.offloadToCpu) {
    if (fallback === 'none') fallback = 'partial';
    advice.push(`${ramParams.map((p) => `${p.module} (${p.mb.toFixed(0)} MB)`).join(', ')} placed in RAM instead of GPU memory.`);
  }
  return { ...preflight, fallback, evidence: [...preflight.evidence, ...memory.evidence], advice };
}
