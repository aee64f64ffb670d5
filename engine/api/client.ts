import { OrchardError, messageOf } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';
import { liveServerInfo } from '../settings/server-info.js';
import { readSettings } from '../settings/settings.js';
import { API_PREFIX, type ApiError } from './api-types.js';
import { WS_PROTOCOL, WS_TOKEN_PREFIX } from './security.js';

/**
 * The CLI's way to a running `orchard serve`: port from server.json, token from orchard.json.
 * Every error is an OrchardError the CLI can print as is.
 */
export class ApiClient {
  constructor(
    readonly port: number,
    private readonly token: string,
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async request<T>(method: 'GET' | 'POST' | 'PUT', route: string, body?: unknown): Promise<{ status: number; value: T }> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${API_PREFIX}${route}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (err) {
      throw new OrchardError('SERVICE', `the Orchard server at ${this.baseUrl} does not answer: ${messageOf(err)}`, {
        hint: 'Start it with `orchard serve` (or `orchard serve --detach`).',
      });
    }
    const text = await res.text();
    let value: unknown;
    try {
      value = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new OrchardError('SERVICE', `the Orchard server answered ${res.status} with something that is not JSON`, {
        where: `${method} ${route}`,
      });
    }
    if (!res.ok) {
      const error = (value as Partial<ApiError>).error;
      throw new OrchardError(isKnownCode(error?.code) ? error.code : 'SERVICE', error?.message ?? `HTTP ${res.status}`, {
        // The route is an implementation detail: only the server's own `where` (a file, a field) is shown.
        ...(error?.where ? { where: error.where } : {}),
        ...(error?.hint ? { hint: error.hint } : {}),
      });
    }
    return { status: res.status, value: value as T };
  }

  /** WebSocket subprotocols that carry the token (see api-types.ts). */
  wsProtocols(): string[] {
    return [WS_PROTOCOL, `${WS_TOKEN_PREFIX}${this.token}`];
  }

  get eventsUrl(): string {
    return `ws://127.0.0.1:${this.port}${API_PREFIX}/events`;
  }
}

/** A client for the server running on this ORCHARD_HOME, or undefined when none runs. */
export async function connectToServer(home: OrchardHome): Promise<ApiClient | undefined> {
  const info = await liveServerInfo(home);
  if (!info) return undefined;
  const settings = await readSettings(home);
  if (!settings?.token) {
    throw new OrchardError('IO', 'a server is running but orchard.json has no token', {
      where: home.settingsFile,
      hint: 'Restart `orchard serve`.',
    });
  }
  return new ApiClient(info.port, settings.token);
}

const CODES = new Set([
  'RECIPE_INVALID',
  'RECIPE_NOT_FOUND',
  'TEMPLATE',
  'PLAN',
  'REQUIREMENT',
  'STEP_FAILED',
  'LOCKED',
  'PATH_ESCAPE',
  'ARCHIVE_UNSAFE',
  'DOWNLOAD',
  'INTEGRITY',
  'AUTH',
  'DISK_SPACE',
  'NOT_INSTALLED',
  'BACKEND',
  'MODEL',
  'SERVICE',
  'USAGE',
  'CANCELLED',
  'IO',
]);
function isKnownCode(code: string | undefined): code is OrchardError['code'] {
  return code !== undefined && CODES.has(code);
}
