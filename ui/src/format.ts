/** Human-readable figures for the UI: binary units (KiB, MiB, GiB), as the CLI prints them. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return 'unknown';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

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
