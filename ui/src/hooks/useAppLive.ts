import { useCallback, useEffect, useState } from 'react';
import type { AppSummary, Job, MetricsSample, ServiceStatus } from '../../../engine/api/api-types.js';
import { api, ApiFailure } from '../api/client.js';
import { useServerEvents } from './useServerEvents.js';

const MAX_LOG_LINES = 1000;
const MAX_SAMPLES = 300;

export interface AppLive {
  /** undefined while loading; null when the app is not installed. */
  app: AppSummary | null | undefined;
  error: ApiFailure | undefined;
  job: Job | undefined;
  setJob: (job: Job) => void;
  serviceLog: string[];
  stepLogs: Record<string, string[]>;
  metrics: MetricsSample[];
  status: ServiceStatus | undefined;
  setStatus: (status: ServiceStatus) => void;
  reload: () => void;
}

/** Everything the App page shows, kept current from the REST answers plus the WebSocket stream. */
export function useAppLive(id: string): AppLive {
  const [app, setApp] = useState<AppSummary | null>();
  const [error, setError] = useState<ApiFailure>();
  const [job, setJob] = useState<Job>();
  const [serviceLog, setServiceLog] = useState<string[]>([]);
  const [stepLogs, setStepLogs] = useState<Record<string, string[]>>({});
  const [metrics, setMetrics] = useState<MetricsSample[]>([]);
  const [status, setStatus] = useState<ServiceStatus>();
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  // The answer to the POST that started a job can arrive after the WebSocket already said the job
  // ended (a fast uninstall): the older "running" snapshot must not hide the end.
  const adoptJob = useCallback(
    (next: Job) =>
      setJob((current) => (current && current.id === next.id && current.state !== 'running' && next.state === 'running' ? current : next)),
    [],
  );
  const path = `/apps/${encodeURIComponent(id)}`;

  useEffect(() => {
    let live = true;
    // The list, not /apps/:id: an app that is not installed is an answer here, not a 404.
    api('GET /apps')
      .then(async ({ apps }) => {
        if (!live) return;
        const summary = apps.find((a) => a.id === id);
        setApp(summary ?? null);
        if (!summary) return;
        setStatus(summary.service);
        setError(undefined);
        const [logs, samples] = await Promise.all([
          api('GET /apps/:id/logs', { params: { id }, query: { tail: '200' } }).catch(() => ({ lines: [] })),
          api('GET /apps/:id/metrics', { params: { id } }).catch(() => ({ samples: [] as MetricsSample[] })),
        ]);
        if (!live) return;
        setServiceLog(logs.lines);
        setMetrics(samples.samples);
      })
      .catch((err: unknown) => {
        if (!live) return;
        setError(err instanceof ApiFailure ? err : new ApiFailure(0, 'UI', String(err)));
      });
    return () => {
      live = false;
    };
  }, [path, generation]);

  useServerEvents((message) => {
    switch (message.type) {
      case 'job':
        if (message.job.app !== id) return;
        setJob(message.job);
        if (message.job.state !== 'running') reload();
        return;
      case 'step':
        setJob((current) => (current && current.id === message.job ? withStep(current, message) : current));
        return;
      case 'download':
        setJob((current) => {
          if (!current || current.id !== message.job) return current;
          const { type: _type, job: _job, ...download } = message;
          return { ...current, downloads: { ...current.downloads, [download.file]: download } };
        });
        return;
      case 'log': {
        if (message.app !== id) return;
        const step = message.step;
        if (message.job !== undefined && step !== undefined) {
          setStepLogs((logs) => ({ ...logs, [step]: capped([...(logs[step] ?? []), message.line]) }));
        } else {
          setServiceLog((lines) => capped([...lines, message.line]));
        }
        return;
      }
      case 'status':
        if (message.app === id) setStatus(message.status);
        return;
      case 'metrics':
        if (message.app === id) setMetrics((samples) => [...samples, message.sample].slice(-MAX_SAMPLES));
        return;
      case 'verdict':
        if (message.app === id) setApp((current) => (current ? { ...current, verdict: message.verdict } : current));
        return;
      default:
        return;
    }
  });

  return { app, error, job, setJob: adoptJob, serviceLog, stepLogs, metrics, status, setStatus, reload };
}

function capped(lines: string[]): string[] {
  return lines.length > MAX_LOG_LINES ? lines.slice(-MAX_LOG_LINES) : lines;
}

function withStep(
  job: Job,
  event: { step: string; kind: string; title: string; status: Job['steps'][number]['status']; elapsedMs?: number; message?: string },
): Job {
  const row: Job['steps'][number] = { key: event.step, kind: event.kind, title: event.title, status: event.status };
  if (event.elapsedMs !== undefined) row.elapsedMs = event.elapsedMs;
  if (event.message !== undefined) row.message = event.message;
  const index = job.steps.findIndex((s) => s.key === event.step);
  const steps = index >= 0 ? job.steps.map((s, i) => (i === index ? row : s)) : [...job.steps, row];
  return { ...job, steps };
}
