import type { IncomingMessage, ServerResponse } from 'node:http';
import { findTooDeep, tooDeepMessage } from '../core/json-depth.js';
import { readBody, sendJson as sendJsonWith } from '../core/http-kit.js';
import { HttpError } from './http-error.js';
import { checkBody } from './request-validation.js';

/** Headers on every answer: no caching of API data, no MIME sniffing, no framing by other sites. */
export const BASE_HEADERS: Record<string, string> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  sendJsonWith(res, status, value, BASE_HEADERS);
}

const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** The request's JSON body (an object); `{}` when empty. 400 for anything else, 413 when huge. */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req, MAX_BODY_BYTES, {
    tooLarge: (max) => new HttpError(413, 'TOO_LARGE', `request body over ${max} bytes`, 'Send a smaller body.'),
  });
  const text = body.toString('utf8').trim();
  if (text === '') return {};
  // Refused before parsing: what follows (validation, stringify) recurses and would overflow.
  const deep = findTooDeep(text);
  if (deep)
    throw new HttpError(
      400,
      'BAD_JSON',
      `the request body is ${tooDeepMessage(deep)}`,
      'Send a flatter JSON object.',
      `body${deep.pointer}`,
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'BAD_JSON', 'the request body is not valid JSON', 'Send a JSON object with content-type application/json.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'BAD_JSON', 'the request body must be a JSON object');
  }
  checkBody(req, value as Record<string, unknown>);
  return value as Record<string, unknown>;
}

/** Typed readers for body fields: a wrong type is a 400 naming the field. */
export const field = {
  string(body: Record<string, unknown>, name: string, required = false): string | undefined {
    const v = body[name];
    if (v === undefined || v === null) {
      if (required) throw new HttpError(400, 'USAGE', `"${name}" is required`, undefined, `body.${name}`);
      return undefined;
    }
    if (typeof v !== 'string') throw new HttpError(400, 'USAGE', `"${name}" must be a string`, undefined, `body.${name}`);
    return v;
  },
  boolean(body: Record<string, unknown>, name: string): boolean | undefined {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') throw new HttpError(400, 'USAGE', `"${name}" must be true or false`, undefined, `body.${name}`);
    return v;
  },
  number(body: Record<string, unknown>, name: string): number | undefined {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new HttpError(400, 'USAGE', `"${name}" must be a number`, undefined, `body.${name}`);
    return v;
  },
  stringMap(body: Record<string, unknown>, name: string): Record<string, string> | undefined {
    const v = body[name];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v))
      throw new HttpError(400, 'USAGE', `"${name}" must be an object of strings`, undefined, `body.${name}`);
    const out: Record<string, string> = {};
    for (const [k, value] of Object.entries(v as Record<string, unknown>)) {
      if (typeof value === 'string') out[k] = value;
      else if (typeof value === 'number' || typeof value === 'boolean') out[k] = String(value);
      else throw new HttpError(400, 'USAGE', `"${name}.${k}" must be a string`, undefined, `body.${name}.${k}`);
    }
    return out;
  },
};
