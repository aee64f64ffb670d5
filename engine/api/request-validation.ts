import type { IncomingMessage } from 'node:http';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { API_PREFIX } from './api-types.js';
import { REQUEST_SCHEMAS, type RouteKey } from './contract.js';
import { HttpError } from './http-error.js';

/**
 * Request bodies checked against the contract's JSON Schemas (contract.ts) before a handler sees
 * them: a wrong body is a 400 whose `where` is the JSON pointer of the first problem.
 *
 * The server names the matched route for a request (bindRoute); readJsonBody (http-io.ts) then
 * checks what it parsed (checkBody). Routes without a schema take any JSON object.
 */
const ajv = new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true });
const compiled = new Map<string, ValidateFunction>();
const boundRoute = new WeakMap<IncomingMessage, string>();

/** `POST /api/v1/apps/:id/install` → `POST /apps/:id/install`, the contract's key. */
export function contractKey(method: string, routePath: string): string {
  return `${method} ${routePath.startsWith(API_PREFIX) ? routePath.slice(API_PREFIX.length) : routePath}`;
}

export function bindRoute(req: IncomingMessage, method: string, routePath: string): void {
  boundRoute.set(req, contractKey(method, routePath));
}

function validatorFor(key: string): ValidateFunction | undefined {
  const schema = REQUEST_SCHEMAS[key as RouteKey];
  if (!schema) return undefined;
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(key, validate);
  }
  return validate;
}

/** Throws a 400 naming the pointer when `body` breaks the schema of the route bound to `req`. */
export function checkBody(req: IncomingMessage, body: Record<string, unknown>): void {
  const key = boundRoute.get(req);
  if (key === undefined) return;
  const validate = validatorFor(key);
  if (!validate || validate(body)) return;
  const error = validate.errors?.[0];
  const pointer = error ? pointerOf(error) : '';
  throw new HttpError(
    400,
    'BAD_REQUEST',
    `request body${pointer ? ` at ${pointer}` : ''}: ${messageOf(error)}`,
    `See ${key} in engine/api/contract.ts.`,
    pointer || '/',
  );
}

function pointerOf(e: ErrorObject): string {
  const params = e.params as { missingProperty?: string; additionalProperty?: string };
  const child = params.missingProperty ?? params.additionalProperty;
  return child === undefined ? e.instancePath : `${e.instancePath}/${child.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

function messageOf(e: ErrorObject | undefined): string {
  if (!e) return 'does not match the contract';
  if (e.keyword === 'additionalProperties') return 'unknown field';
  if (e.keyword === 'required') return 'is required';
  return e.message ?? 'does not match the contract';
}
