import type { AppMetrics, AppStatus } from '../supervisor/index.js';
import type { ApiContext } from './api-context.js';
import type { MetricsSample, ServiceStatus } from './api-types.js';

/** An app's service status as the API shows it (a URL only for apps with their own web UI). */
export function statusOf(ctx: Pick<ApiContext, 'uiApps'>, status: AppStatus): ServiceStatus {
  return toServiceStatus(status, { hasUi: ctx.uiApps.has(status.app) });
}

/**
 * The supervisor's AppStatus in the API's shape. The supervisor sets a URL for every service;
 * `url` is only passed on for apps with their own web UI (`service.ui` in the recipe), since it is
 * what the UI's "Open" button links to.
 */
export function toServiceStatus(s: AppStatus, o: { hasUi: boolean }): ServiceStatus {
  return {
    state: s.state,
    restarts: s.restarts,
    ...(s.pid !== undefined ? { pid: s.pid } : {}),
    ...(s.port !== undefined ? { port: s.port } : {}),
    ...(s.url !== undefined && o.hasUi ? { url: s.url } : {}),
    ...(s.startedAt !== undefined ? { startedAt: new Date(s.startedAt).toISOString() } : {}),
    ...(s.exitCode !== undefined || s.signal !== undefined ? { exit: { code: s.exitCode ?? null, signal: s.signal ?? null } } : {}),
    ...(s.error !== undefined ? { message: s.error } : {}),
  };
}

export function toMetricsSample(m: AppMetrics, speed?: { tokensPerSecond?: number; stepsPerSecond?: number }): MetricsSample {
  const gpu = m.gpus?.map((g) => g.deviceUtilizationPercent).filter((v): v is number => typeof v === 'number');
  return {
    at: m.time,
    cpuPercent: m.cpuPercent,
    rssBytes: m.rssBytes,
    ...(gpu && gpu.length > 0 ? { gpuPercent: Math.max(...gpu) } : {}),
    ...(speed?.tokensPerSecond !== undefined ? { tokensPerSecond: speed.tokensPerSecond } : {}),
    ...(speed?.stepsPerSecond !== undefined ? { stepsPerSecond: speed.stepsPerSecond } : {}),
  };
}
