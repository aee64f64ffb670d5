import type { IncomingMessage, ServerResponse } from 'node:http';
import { findRoute as findRouteIn } from '../core/http-kit.js';
import { HttpError } from './http-error.js';

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

/** The route for a request; 404 when no path matches, 405 when the path exists for other methods. */
export function findRoute<S>(routes: readonly Route<S>[], method: string, pathname: string): Match<S> {
  return findRouteIn(routes, method, pathname, {
    notAllowed: () => new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${pathname}`),
    notFound: () => new HttpError(404, 'NOT_FOUND', `no API route ${pathname}`, 'See engine/api/contract.ts for the routes.'),
  });
}
