import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The one small HTTP toolkit of Orchard's three JSON APIs: the local API (engine/api), the LLM
 * service's OpenAI API (services/llm) and the diffusion job API (services/diffusion). Each API keeps
 * its own error body (the local API's `{error:{code,...}}`, OpenAI's `{error:{message,type,...}}`),
 * so the functions take the errors to throw; reading, writing and routing are shared.
 *
 * Why not Hono or find-my-way: the APIs are a dozen routes each on node:http, the local API's
 * security checks and proxy work on the raw request/response, and the LLM service streams SSE
 * straight to the socket; a framework would add a request abstraction to route around, for the
 * thirty lines below.
 */

/** What a reader throws: built by the caller, in its API's error shape. */
export interface BodyErrors {
  tooLarge: (maxBytes: number) => Error;
  badJson: (detail: string) => Error;
}

/** The request body, refused (tooLarge) as soon as it grows past maxBytes. */
export async function readBody(req: IncomingMessage, maxBytes: number, errors: Pick<BodyErrors, 'tooLarge'>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw errors.tooLarge(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The request body parsed as JSON (`empty` when there is no body and the caller gives one). */
export async function readJson(req: IncomingMessage, o: BodyErrors & { maxBytes: number; empty?: unknown }): Promise<unknown> {
  const text = (await readBody(req, o.maxBytes, o)).toString('utf8');
  if (o.empty !== undefined && text.trim() === '') return o.empty;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw o.badJson(err instanceof Error ? err.message : String(err));
  }
}

/** Answer a JSON value (ends the response instead when headers already went, e.g. mid-stream). */
export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const body = `${JSON.stringify(value)}\n`;
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

/** A route: a method (ALL: any) and a path whose `:name` segments are parameters and whose final `*` takes the rest. */
export interface RouteSpec {
  method: string;
  path: string;
}

/** Parameters are single path segments: decoded, never empty, never `.`/`..`, never holding `/`. */
function decodeSegment(raw: string): string | undefined {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (value === '' || value === '.' || value === '..' || value.includes('/') || value.includes('\\') || value.includes('\0'))
    return undefined;
  return value;
}

export function matchPath(pattern: string, pathname: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const have = pathname.split('/');
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
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

/** The route for a request: notFound when no path matches, notAllowed when the path exists for other methods. */
export function findRoute<R extends RouteSpec>(
  routes: readonly R[],
  method: string,
  pathname: string,
  errors: { notFound: () => Error; notAllowed: (allowed: string[]) => Error },
): { route: R; params: Record<string, string> } {
  const allowed: string[] = [];
  for (const route of routes) {
    const params = matchPath(route.path, pathname);
    if (!params) continue;
    if (route.method === 'ALL' || route.method === method || (method === 'HEAD' && route.method === 'GET')) return { route, params };
    allowed.push(route.method);
  }
  if (allowed.length > 0) throw errors.notAllowed(allowed);
  throw errors.notFound();
}
