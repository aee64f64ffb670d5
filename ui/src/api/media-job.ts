import type { MediaJob, MediaJobRequest } from '../../../engine/api/api-types.js';
import { API, api, authHeaders, readJson } from './client.js';
import { sseData } from './sse.js';

const TERMINAL: ReadonlySet<MediaJob['state']> = new Set(['completed', 'failed', 'cancelled']);
/** How often to re-open a dropped event stream before giving up (the service may restart sd-server). */
const MAX_RECONNECTS = 20;

export function isFinished(job: MediaJob): boolean {
  return TERMINAL.has(job.state);
}

const servicePath = (appId: string, rest: string): string => `/apps/${encodeURIComponent(appId)}/service${rest}`;

/** Submit a text-to-image / text-to-video job through the API's service proxy (202 with the job). */
export function submitMediaJob(
  appId: string,
  request: Omit<MediaJobRequest, 'kind'> & { kind?: MediaJobRequest['kind'] },
): Promise<MediaJob> {
  return api<MediaJob>('POST', servicePath(appId, '/v1/jobs'), request);
}

/** The service's jobs, oldest first (it keeps them while it runs). */
export async function listMediaJobs(appId: string, signal?: AbortSignal): Promise<MediaJob[]> {
  return (await api<{ jobs: MediaJob[] }>('GET', servicePath(appId, '/v1/jobs'), undefined, signal)).jobs;
}

export function cancelMediaJob(appId: string, id: string): Promise<MediaJob> {
  return api<MediaJob>('POST', servicePath(appId, `/v1/jobs/${encodeURIComponent(id)}/cancel`), {});
}

/**
 * Follow a job's server-sent events (`event: state|progress`, `data: <job>`) until it ends, calling
 * onJob with every snapshot. A stream that drops early is re-opened (the first event is always the
 * current snapshot, so nothing is missed). Resolves with the final snapshot.
 */
export async function followMediaJob(appId: string, id: string, onJob: (job: MediaJob) => void, signal: AbortSignal): Promise<MediaJob> {
  let last: MediaJob | undefined;
  for (let attempt = 0; attempt <= MAX_RECONNECTS; attempt++) {
    const response = await fetch(`${API}${servicePath(appId, `/v1/jobs/${encodeURIComponent(id)}/events`)}`, {
      headers: authHeaders({ Accept: 'text/event-stream' }),
      signal,
    });
    if (!response.ok || !response.body) {
      await readJson(response);
      throw new Error(`the job's event stream answered HTTP ${response.status} without a body`);
    }
    for await (const data of sseData(response.body)) {
      const job = parseJob(data);
      if (!job) continue;
      last = job;
      onJob(job);
    }
    if (last && isFinished(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error("the job's event stream kept closing before the job ended");
}

function parseJob(data: string): MediaJob | undefined {
  try {
    return JSON.parse(data) as MediaJob;
  } catch {
    return undefined;
  }
}

/**
 * The finished job's file, fetched with the token (an <img>/<video> src cannot send it) and kept as
 * a blob: URL for display and download. The caller revokes it.
 */
export async function fetchMediaResult(
  appId: string,
  id: string,
  signal: AbortSignal,
): Promise<{ url: string; mimeType: string; bytes: number }> {
  const response = await fetch(`${API}${servicePath(appId, `/v1/jobs/${encodeURIComponent(id)}/result`)}`, {
    headers: authHeaders(),
    signal,
  });
  if (!response.ok) {
    await readJson(response);
    throw new Error(`the result answered HTTP ${response.status}`);
  }
  const blob = await response.blob();
  return {
    url: URL.createObjectURL(blob),
    mimeType: blob.type || (response.headers.get('content-type') ?? 'application/octet-stream'),
    bytes: blob.size,
  };
}
