import type { ApiError } from '../../../engine/api/api-types.js';
import type { RouteBody, RouteKey, RouteParams, RouteResponse } from '../../../engine/api/contract.js';

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

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** What a typed call takes besides its route: path parameters, body, query and signal, as the route needs. */
export type CallOptions<K extends RouteKey> = { query?: Record<string, string>; signal?: AbortSignal } & ([RouteParams<K>] extends [never]
  ? { params?: undefined }
  : { params: Record<RouteParams<K>, string> }) &
  (RouteBody<K> extends undefined ? { body?: undefined } : { body?: RouteBody<K> });
type CallArgs<K extends RouteKey> = object extends CallOptions<K> ? [options?: CallOptions<K>] : [options: CallOptions<K>];

/** The path of a route with its parameters filled in (each one URI-encoded). */
export function routePath(pattern: string, params: Record<string, string> = {}): string {
  return pattern.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for :${name} in ${pattern}`);
    return encodeURIComponent(value);
  });
}

/**
 * Call a route of the contract (engine/api/contract.ts), typed by it:
 * `api('GET /apps/:id', { params: { id } })` answers an AppSummary, with no cast.
 * The untyped form `api<T>(method, path, body?, signal?)` remains for the service proxy's routes.
 */
export function api<K extends RouteKey>(route: K, ...args: CallArgs<K>): Promise<RouteResponse<K>>;
export function api<T>(method: Method, route: string, body?: unknown, signal?: AbortSignal): Promise<T>;
export function api(first: string, second?: unknown, body?: unknown, signal?: AbortSignal): Promise<unknown> {
  if (first.includes(' ')) {
    const [method, pattern] = first.split(' ') as [Method, string];
    const o = (second ?? {}) as { params?: Record<string, string>; body?: unknown; query?: Record<string, string>; signal?: AbortSignal };
    const query = o.query && Object.keys(o.query).length > 0 ? `?${new URLSearchParams(o.query).toString()}` : '';
    return request(method, `${routePath(pattern, o.params)}${query}`, o.body, o.signal);
  }
  return request(first as Method, second as string, body, signal);
}

/** GET/POST/PUT a JSON route; throws ApiFailure with the server's explanation. */
async function request(method: Method, route: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
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
  return readJson<unknown>(response);
}

export async function readJson<T>(response: Response): Promise<T> {
  const text = await response.text();
  let parsed: unknown;
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
