import type { Verdict } from '../diagnose/verdict.js';
import { getServiceJson } from './service-json.js';

const BACKENDS = ['metal', 'cuda', 'vulkan', 'rocm', 'cpu', 'unknown'];
const FALLBACKS = ['none', 'partial', 'full'];

/**
 * The verdict a bundled image/video service derives itself (its `--list-devices` preflight and
 * sd.cpp's memory-placement lines), from GET /health. Used when the live log diagnosis has nothing
 * yet, so the backend badge is not blank while the service already knows.
 */
export async function readServiceVerdict(port: number): Promise<Verdict | undefined> {
  const body = (await getServiceJson(port, '/health')) as { verdict?: Partial<Verdict> } | undefined;
  const v = body?.verdict;
  if (!v || !BACKENDS.includes(String(v.backend)) || !FALLBACKS.includes(String(v.fallback))) return undefined;
  const strings = (xs: unknown): string[] => (Array.isArray(xs) ? xs.filter((x): x is string => typeof x === 'string') : []);
  return {
    backend: v.backend as Verdict['backend'],
    fallback: v.fallback as Verdict['fallback'],
    ...(v.offload && typeof v.offload.layers === 'number' && typeof v.offload.total === 'number'
      ? { offload: { layers: v.offload.layers, total: v.offload.total } }
      : {}),
    evidence: strings(v.evidence),
    advice: strings(v.advice),
  };
}
