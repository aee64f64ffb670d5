/**
 * Byte counts for people, in binary units (KiB, MiB, GiB: what memory and `orchard fit` speak),
 * the same in the CLI and the web UI. shared/ holds pure modules with no imports that both the
 * engine and the UI may import (scripts/check-layers.mjs).
 */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return 'unknown';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
