import type { ServiceThroughput } from './api-context.js';
import { getServiceJson as getJson } from './service-json.js';

export type ThroughputKind = ServiceThroughput['kind'];

/** Which bundled service speaks which throughput endpoint; recipe commands have none we know. */
export function throughputKind(serviceType: string): ThroughputKind | undefined {
  if (serviceType === 'llm') return 'llm';
  if (serviceType === 'image' || serviceType === 'video') return 'media';
  return undefined;
}

/**
 * Read a running service's speed on 127.0.0.1:<port>, so the UI never polls services itself:
 * - llm: GET /metrics → `tokensPerSecond.last` (the latest completion; kept until the next one).
 * - media: GET /v1/jobs → the running job's sampling speed (1 / seconds per step); none when idle.
 * Returns undefined when the service does not answer in time or answers something else.
 */
export async function readThroughput(
  port: number,
  kind: ThroughputKind,
  previous?: Omit<ServiceThroughput, 'kind'>,
): Promise<Omit<ServiceThroughput, 'kind'> | undefined> {
  const body = await getJson(port, kind === 'llm' ? '/metrics' : '/v1/jobs');
  if (body === undefined) return undefined;
  return kind === 'llm' ? llmThroughput(body, previous) : mediaThroughput(body);
}

/**
 * The latest completion's speed while generating or just after it finished; 0 once the service is
 * idle with no new completion since the last read, so the chart falls to zero when generation ends.
 */
export function llmThroughput(body: unknown, previous?: Omit<ServiceThroughput, 'kind'>): Omit<ServiceThroughput, 'kind'> {
  const metrics = body as { tokensPerSecond?: { last?: unknown }; active?: unknown; tokens?: { completion?: unknown } } | null;
  const last = metrics?.tokensPerSecond?.last;
  if (typeof last !== 'number' || !Number.isFinite(last)) return {};
  const completed = typeof metrics?.tokens?.completion === 'number' ? metrics.tokens.completion : undefined;
  const active = typeof metrics?.active === 'number' ? metrics.active : 0;
  const fresh = previous?.completionTokens === undefined || completed !== previous.completionTokens;
  return { tokensPerSecond: active > 0 || fresh ? last : 0, ...(completed !== undefined ? { completionTokens: completed } : {}) };
}

export function mediaThroughput(body: unknown): Omit<ServiceThroughput, 'kind'> {
  const jobs = (body as { jobs?: unknown } | null)?.jobs;
  if (!Array.isArray(jobs)) return {};
  for (const job of jobs as { state?: unknown; phase?: unknown; progress?: { secondsPerStep?: unknown } }[]) {
    const seconds = job.progress?.secondsPerStep;
    // Only sampling steps: sd.cpp reuses its bar for VAE tiles while decoding.
    if (job.state === 'running' && job.phase === 'sampling' && typeof seconds === 'number' && seconds > 0)
      return { stepsPerSecond: Math.round((1 / seconds) * 1000) / 1000 };
  }
  return {};
}
