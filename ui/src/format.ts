/** Human-readable figures for the UI. Bytes: the engine's own formatter (shared/), so both say GiB. */
export { formatBytes } from '../../shared/format-bytes.js';

export function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function formatDuration(ms: number | undefined): string {
  return ms === undefined ? '' : ms < 1000 ? `${ms} ms` : formatSeconds(ms / 1000);
}

export function formatGiB(gib: number | undefined): string {
  return gib === undefined ? '?' : `${gib} GiB`;
}
