/**
 * The gateway's settings: the `gateway` object of ORCHARD_HOME/orchard.json, overridden by
 * ORCHARD_GATEWAY_* environment variables (and `orchard serve --gateway-port`). Every field is
 * optional; a missing or malformed one takes its default, so a hand-edited file never stops Orchard.
 */
export interface GatewaySettings {
  /** Loopback port of the gateway. Default 11435 (next to Ollama's 11434). */
  port?: number;
  /** false turns the gateway off. */
  enabled?: boolean;
  /** When set, every request needs `Authorization: Bearer <apiKey>` (off by default, as Ollama's). */
  apiKey?: string;
  /** Browser origins allowed besides loopback pages, like OLLAMA_ORIGINS: `https://chat.example`, `app://*`. */
  origins?: string[];
  /** How long an idle model stays loaded: a duration ("5m", "1h30m"), seconds, 0 = unload at once, negative = forever. */
  keepAlive?: string | number;
  /** The memory the loaded models may use together, in bytes; default: this machine's usable memory. */
  memoryBudgetBytes?: number;
  /** Requests waiting per model before more are refused (503). Default 64. */
  maxQueue?: number;
  /** Per app: its keep-alive and a short alias for it. */
  apps?: Record<string, { keepAlive?: string | number; alias?: string }>;
}

export const DEFAULT_GATEWAY_PORT = 11435;
export const DEFAULT_KEEP_ALIVE = '5m';
export const DEFAULT_MAX_QUEUE = 64;

/** The environment variables the gateway reads (each beats orchard.json). */
export const GATEWAY_ENV = {
  port: 'ORCHARD_GATEWAY_PORT',
  apiKey: 'ORCHARD_GATEWAY_KEY',
  origins: 'ORCHARD_GATEWAY_ORIGINS',
  keepAlive: 'ORCHARD_GATEWAY_KEEP_ALIVE',
  memoryBudgetBytes: 'ORCHARD_GATEWAY_MEMORY_BYTES',
} as const;

/** The `gateway` value of orchard.json, cleaned: unknown or mistyped fields are dropped. */
export function normaliseGatewaySettings(value: unknown): GatewaySettings | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  const out: GatewaySettings = {};
  if (isPort(o['port'])) out.port = o['port'];
  if (typeof o['enabled'] === 'boolean') out.enabled = o['enabled'];
  if (typeof o['apiKey'] === 'string' && o['apiKey'].trim() !== '') out.apiKey = o['apiKey'].trim();
  if (Array.isArray(o['origins']))
    out.origins = o['origins'].filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((x) => x.trim());
  if (isKeepAlive(o['keepAlive'])) out.keepAlive = o['keepAlive'];
  if (typeof o['memoryBudgetBytes'] === 'number' && Number.isFinite(o['memoryBudgetBytes']) && o['memoryBudgetBytes'] > 0)
    out.memoryBudgetBytes = o['memoryBudgetBytes'];
  if (typeof o['maxQueue'] === 'number' && Number.isInteger(o['maxQueue']) && o['maxQueue'] >= 0) out.maxQueue = o['maxQueue'];
  const apps = o['apps'];
  if (typeof apps === 'object' && apps !== null && !Array.isArray(apps)) {
    const cleaned: NonNullable<GatewaySettings['apps']> = {};
    for (const [id, raw] of Object.entries(apps as Record<string, unknown>)) {
      if (typeof raw !== 'object' || raw === null) continue;
      const r = raw as Record<string, unknown>;
      const entry: { keepAlive?: string | number; alias?: string } = {};
      if (isKeepAlive(r['keepAlive'])) entry.keepAlive = r['keepAlive'];
      if (typeof r['alias'] === 'string' && /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(r['alias'])) entry.alias = r['alias'];
      cleaned[id] = entry;
    }
    out.apps = cleaned;
  }
  return out;
}

/** orchard.json's gateway settings with the environment's overrides on top. */
export function effectiveGatewaySettings(fromFile: GatewaySettings | undefined, env: NodeJS.ProcessEnv = process.env): GatewaySettings {
  const out: GatewaySettings = { ...(fromFile ?? {}) };
  const port = env[GATEWAY_ENV.port];
  if (port !== undefined && port !== '') {
    const n = Number(port);
    if (isPort(n)) out.port = n;
  }
  const key = env[GATEWAY_ENV.apiKey];
  if (key !== undefined && key.trim() !== '') out.apiKey = key.trim();
  const origins = env[GATEWAY_ENV.origins];
  if (origins !== undefined && origins.trim() !== '')
    out.origins = [
      ...(out.origins ?? []),
      ...origins
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ];
  const keepAlive = env[GATEWAY_ENV.keepAlive];
  if (keepAlive !== undefined && keepAlive.trim() !== '') out.keepAlive = keepAlive.trim();
  const memory = Number(env[GATEWAY_ENV.memoryBudgetBytes] ?? '');
  if (Number.isFinite(memory) && memory > 0) out.memoryBudgetBytes = memory;
  return out;
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535;
}

function isKeepAlive(v: unknown): v is string | number {
  return (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.trim() !== '');
}
