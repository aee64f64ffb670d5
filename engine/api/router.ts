import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from './http-errors.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteContext<S> {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  url: URL;
  server: S;
  /** Aborted when the client goes away before the answer is sent: long handlers stop their work. */
  signal: AbortSignal;
}

/** What a handler gives back: a JSON value (200), a value with another status, or "already answered". */
export type HandlerResult = unknown;
export const ANSWERED: unique symbol = Symbol('answered');

export class WithStatus {
  constructor(
    readonly status: number,
    readonly value: unknown,
  ) {}
}

export interface Route<S> {
  /** ALL: any method (the service proxy). */
  method: Method | 'ALL';
  /** `/api/v1/apps/:id/start`; a final `*` matches the rest of the path (maybe empty). */
  path: string;
  handler: (ctx: RouteContext<S>) => Promise<HandlerResult>;
}

export interface Match<S> {
  route: Route<S>;
  params: Record<string, string>;
}

/** Parameters are single path segments: decoded, never empty, never `.`/`..`, never holding `/`. */
function decodeSegment(raw: string): string | undefined {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (value === '' || value === '.' || value === '..' || value.includes('/') || value.includes('\\') || value.includes('\0')) return undefined;
  return value;
}

function matchPath(pattern: string, pathname: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const have = pathname.split('/');
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (w === '*' && i === want.length - 1) {
      params['*'] = have.slice(i).join('/');
      return params;
    }
    const h = have[i];
    if (h === undefined) return undefined;
    if (w.startsWith(':')) {
      const value = decodeSegment(h);
      if (value === undefined) return undefined;
      params[w.slice(1)] = value;
    } else if (w !== h) {
      return undefined;
    }
  }
  return have.length === want.length ? params : undefined;
}

/** The route for a request; 404 when no path matches, 405 when the path exists for other methods. */
export function findRoute<S>(routes: readonly Route<S>[], method: string, pathname: string): Match<S> {
  let pathMatched = false;
  for (const route of routes) {
    const params = matchPath(route.path, pathname);
    if (!params) continue;
    pathMatched = true;
    if (route.method === 'ALL' || route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params };
  }
  if (pathMatched) throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${pathname}`);
  throw new HttpError(404, 'NOT_FOUND', `no API route ${pathname}`, 'See engine/api/api-types.ts for the routes.');
}
