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
  return gib === undefined ? 'unknown' : `${gib} GiB`;
}

/** A step kind as people say it, for steps whose plan gave no title (older installs). */
export function stepTitle(kind: string): string {
  const titles: Record<string, string> = {
    fetch: 'Download the model files',
    link: 'Link a model into the app',
    git: 'Get the source code',
    extract: 'Unpack an archive',
    env: 'Create the environment',
    run: 'Run a setup command',
    write: 'Write a file',
    verify: 'Check the GPU backend',
  };
  return titles[kind] ?? kind;
}
