import type { ApiError } from '../../../engine/api/api-types.js';

/** An API refusal or failure, carrying the server's code, where and hint for display. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly where?: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

let token = '';
export function setApiToken(value: string): void {
  token = value;
}
export function apiToken(): string {
  return token;
}

export const API = '/api/v1';

/** The Bearer token when the page has one (Electron); in a browser the session cookie stands in for it. */
export function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}`, ...extra } : { ...extra };
}

/** GET/POST/PUT a JSON route; throws ApiFailure with the server's explanation. */
export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', route: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = { method, headers: authHeaders(body === undefined ? {} : { 'Content-Type': 'application/json' }) };
  if (body !== undefined) init.body = JSON.stringify(body);
  if (signal) init.signal = signal;
  let response: Response;
  try {
    response = await fetch(`${API}${route}`, init);
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiFailure(0, 'NETWORK', 'Orchard is not answering', undefined, 'Is `orchard serve` still running?');
  }
  return readJson<T>(response);
}

export async function readJson<T>(response: Response): Promise<T> {
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // fall through: reported below when the status is bad, else returned as undefined
  }
  if (!response.ok) throw failureFrom(response.status, parsed, text);
  return parsed as T;
}

function failureFrom(status: number, parsed: unknown, text: string): ApiFailure {
  const error = (parsed as Partial<ApiError> | undefined)?.error;
  if (error && typeof error.message === 'string') return new ApiFailure(status, error.code, error.message, error.where, error.hint);
  const hint = status === 401 ? 'Run `orchard open` for a fresh access link.' : undefined;
  return new ApiFailure(status, `HTTP_${status}`, text.trim().slice(0, 200) || `HTTP ${status}`, undefined, hint);
}
