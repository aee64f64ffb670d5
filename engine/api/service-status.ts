import type { AppMetrics, AppStatus } from '../supervisor/index.js';
import type { MetricsSample, ServiceStatus } from './api-types.js';

/** The supervisor's AppStatus in the API's shape. */
export function toServiceStatus(s: AppStatus): ServiceStatus {
  return {
    state: s.state,
    restarts: s.restarts,
    ...(s.pid !== undefined ? { pid: s.pid } : {}),
    ...(s.port !== undefined ? { port: s.port } : {}),
    ...(s.url !== undefined ? { url: s.url } : {}),
    ...(s.startedAt !== undefined ? { startedAt: new Date(s.startedAt).toISOString() } : {}),
    ...(s.exitCode !== undefined || s.signal !== undefined ? { exit: { code: s.exitCode ?? null, signal: s.signal ?? null } } : {}),
    ...(s.error !== undefined ? { message: s.error } : {}),
  };
}

export function toMetricsSample(m: AppMetrics): MetricsSample {
  const gpu = m.gpus?.map((g) => g.deviceUtilizationPercent).filter((v): v is number => typeof v === 'number');
  return {
    at: m.time,
    cpuPercent: m.cpuPercent,
    rssBytes: m.rssBytes,
    ...(gpu && gpu.length > 0 ? { gpuPercent: Math.max(...gpu) } : {}),
  };
}
