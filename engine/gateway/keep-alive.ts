import { GatewayError } from './gateway-error.js';

/** Forever, as a keep-alive in milliseconds. */
export const FOREVER = Number.POSITIVE_INFINITY;

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A keep-alive as Ollama reads it: a number is seconds; a string is a Go duration ("5m", "1h30m",
 * "300ms", "-1m") or a bare number of seconds ("300", "0"); 0 unloads right after the request and
 * any negative value keeps the model loaded until it is unloaded by hand. Returns milliseconds.
 */
export function parseKeepAlive(value: unknown, param = 'keep_alive'): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 0 ? FOREVER : value * 1000;
  if (typeof value !== 'string') throw new GatewayError(400, `${param} must be a duration such as "5m" or a number of seconds`, { param });
  const text = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(text)) {
    const seconds = Number(text);
    return seconds < 0 ? FOREVER : seconds * 1000;
  }
  const match = /^([+-])?((?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+)$/.exec(text);
  if (!match) throw new GatewayError(400, `${param} "${value}" is not a duration (examples: "5m", "1h30m", "30s", 0, -1)`, { param });
  let ms = 0;
  for (const part of (match[2] ?? '').matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g))
    ms += Number(part[1]) * (UNITS[part[2] ?? 's'] ?? 1000);
  return match[1] === '-' ? FOREVER : ms;
}

/** "4m 59s", "forever", "now". */
export function describeKeepAlive(ms: number): string {
  if (ms === FOREVER) return 'forever';
  if (ms <= 0) return 'now';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}
