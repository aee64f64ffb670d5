import type { IncomingMessage } from 'node:http';
import { contractChecker } from '../core/json-contract.js';
import { API_PREFIX } from './api-types.js';
import { REQUEST_SCHEMAS } from './contract.js';
import { HttpError } from './http-error.js';

/**
 * Request bodies checked against the contract's JSON Schemas (contract.ts) before a handler sees
 * them: a wrong body is a 400 whose `where` is the JSON pointer of the first problem.
 *
 * The server names the matched route for a request (bindRoute); readJsonBody (http-io.ts) then
 * checks what it parsed (checkBody). Routes without a schema take any JSON object.
 */
const check = contractChecker(REQUEST_SCHEMAS);
const boundRoute = new WeakMap<IncomingMessage, string>();

/** `POST /api/v1/apps/:id/install` → `POST /apps/:id/install`, the contract's key. */
export function contractKey(method: string, routePath: string): string {
  return `${method} ${routePath.startsWith(API_PREFIX) ? routePath.slice(API_PREFIX.length) : routePath}`;
}

export function bindRoute(req: IncomingMessage, method: string, routePath: string): void {
  boundRoute.set(req, contractKey(method, routePath));
}

/** Throws a 400 naming the pointer when `body` breaks the schema of the route bound to `req`. */
export function checkBody(req: IncomingMessage, body: Record<string, unknown>): void {
  const key = boundRoute.get(req);
  if (key === undefined) return;
  const problem = check(key, body);
  if (!problem) return;
  const { pointer } = problem;
  throw new HttpError(
    400,
    'BAD_REQUEST',
    `request body${pointer ? ` at ${pointer}` : ''}: ${problem.message}`,
    `See ${key} in engine/api/contract.ts.`,
    pointer || '/',
  );
}
