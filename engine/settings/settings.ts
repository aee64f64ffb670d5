import { randomBytes } from 'node:crypto';
import { chmod, readFile } from 'node:fs/promises';
import { writeJsonAtomic } from '../core/atomic-write.js';
import { findTooDeep, tooDeepMessage } from '../core/json-depth.js';
import { OrchardError } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';
import { normaliseGatewaySettings, type GatewaySettings } from './gateway-settings.js';

/**
 * ORCHARD_HOME/orchard.json: the local API token and the user's settings. It holds secrets (the
 * API token, the Hugging Face token on plain `orchard serve`), so it is always written mode 0600,
 * atomically, and never served or logged.
 */
export interface SettingsFile {
  /** Bearer token of the local API (64 hex characters from crypto.randomBytes). */
  token: string;
  /** How many install/update/uninstall jobs run at once. */
  concurrency: number;
  /** Hugging Face token for gated weights. Electron keeps it in safeStorage instead. */
  hfToken?: string;
  /** The gateway (one OpenAI + Ollama endpoint for every model): engine/settings/gateway-settings.ts. */
  gateway?: GatewaySettings;
}

export const DEFAULT_CONCURRENCY = 2;
export const MAX_CONCURRENCY = 16;
const SECRET_MODE = 0o600;

export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** Read orchard.json; undefined when it does not exist yet. */
export async function readSettings(home: OrchardHome): Promise<SettingsFile | undefined> {
  let text: string;
  try {
    text = await readFile(home.settingsFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new OrchardError('IO', `cannot read the settings file`, { where: home.settingsFile, hint: 'Check its permissions.', cause: err });
  }
  const deep = findTooDeep(text);
  if (deep) {
    throw new OrchardError('IO', `the settings file is ${tooDeepMessage(deep)}`, {
      where: `${home.settingsFile}:${deep.pointer}`,
      hint: 'Fix it by hand, or delete it: Orchard writes a new one (with a new API token) on the next start.',
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new OrchardError('IO', 'the settings file is not valid JSON', {
      where: home.settingsFile,
      hint: 'Fix it by hand, or delete it: Orchard writes a new one (with a new API token) on the next start.',
      cause: err,
    });
  }
  return normalise(parsed);
}

/** orchard.json with a token, created (mode 0600) when missing or when it lacks a token. */
export async function ensureSettings(home: OrchardHome): Promise<SettingsFile> {
  const current = await readSettings(home);
  if (current?.token) {
    // Tighten a file someone loosened: it holds secrets.
    await chmod(home.settingsFile, SECRET_MODE).catch(() => undefined);
    return current;
  }
  const created: SettingsFile = { ...(current ?? { concurrency: DEFAULT_CONCURRENCY }), token: newToken() };
  await writeSettings(home, created);
  return created;
}

export interface SettingsPatch {
  concurrency?: number;
  /** A string sets it; null or "" removes it. */
  hfToken?: string | null;
}

/** Apply a patch. `token`: the token a running server holds, kept even if the file lost it. */
export async function updateSettings(home: OrchardHome, patch: SettingsPatch, token?: string): Promise<SettingsFile> {
  const current = await ensureSettings(home);
  const next: SettingsFile = { ...current, ...(token ? { token } : {}) };
  if (patch.concurrency !== undefined) next.concurrency = checkConcurrency(patch.concurrency);
  if (patch.hfToken !== undefined) {
    if (patch.hfToken === null || patch.hfToken === '') delete next.hfToken;
    else next.hfToken = patch.hfToken;
  }
  await writeSettings(home, next);
  return next;
}

export async function writeSettings(home: OrchardHome, settings: SettingsFile): Promise<void> {
  await writeJsonAtomic(home.settingsFile, settings, SECRET_MODE);
  // The temp file was created 0600 already; chmod covers a umask that removed nothing but was odd.
  await chmod(home.settingsFile, SECRET_MODE);
}

export function checkConcurrency(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_CONCURRENCY) {
    throw new OrchardError('USAGE', `concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}, got ${JSON.stringify(value)}`, {
      where: 'settings.concurrency',
      hint: `Pick how many installs may run at once (default ${DEFAULT_CONCURRENCY}).`,
    });
  }
  return value;
}

function normalise(value: unknown): SettingsFile {
  const obj = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const token = typeof obj['token'] === 'string' && /^[0-9a-f]{32,}$/.test(obj['token']) ? obj['token'] : '';
  const concurrency =
    typeof obj['concurrency'] === 'number' &&
    Number.isInteger(obj['concurrency']) &&
    obj['concurrency'] >= 1 &&
    obj['concurrency'] <= MAX_CONCURRENCY
      ? obj['concurrency']
      : DEFAULT_CONCURRENCY;
  const hfToken = typeof obj['hfToken'] === 'string' && obj['hfToken'] !== '' ? obj['hfToken'] : undefined;
  const gateway = normaliseGatewaySettings(obj['gateway']);
  return { token, concurrency, ...(hfToken ? { hfToken } : {}), ...(gateway ? { gateway } : {}) };
}
