import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { WS_PROTOCOL, WS_TOKEN_PREFIX } from './api-types.js';
import { HttpError } from './http-errors.js';
import { checkSession, presentedSession } from './session.js';

/**
 * The checks every request and the WebSocket upgrade pass (DESIGN §8), in this order:
 * 1. Host must be a loopback name with the server's port (421): a DNS-rebinding page sends its own
 *    host name, so this alone stops it from reading the API.
 * 2. Origin, when sent, must be the server's own (403): no other page may drive the API (CSRF).
 * 3. The token (401), compared in constant time.
 * No CORS header is ever sent, so browsers keep other origins out as well.
 */
export const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]'] as const;
export { WS_PROTOCOL, WS_TOKEN_PREFIX };

export function allowedHosts(port: number): Set<string> {
  return new Set(LOOPBACK_HOSTS.map((h) => `${h}:${port}`));
}

export function allowedOrigins(port: number): Set<string> {
  return new Set(LOOPBACK_HOSTS.map((h) => `http://${h}:${port}`));
}

export function checkHost(headers: IncomingHttpHeaders, port: number): void {
  const host = (headers.host ?? '').toLowerCase();
  if (!allowedHosts(port).has(host)) {
    throw new HttpError(
      421,
      'MISDIRECTED',
      'this server only answers requests addressed to 127.0.0.1 or localhost on its own port',
      'Open the address `orchard serve` printed.',
    );
  }
}

export function checkOrigin(headers: IncomingHttpHeaders, port: number): void {
  const origin = headers.origin;
  if (origin === undefined) return;
  if (!allowedOrigins(port).has(origin.toLowerCase())) {
    throw new HttpError(
      403,
      'FORBIDDEN_ORIGIN',
      'requests from other web pages are refused',
      'Use the Orchard UI itself, or a client that sends no Origin.',
    );
  }
}

/** The token a request presents: the bearer token, or on a WebSocket upgrade the token subprotocol. */
export function presentedToken(headers: IncomingHttpHeaders, allowSubprotocol: boolean): string | undefined {
  const auth = headers.authorization;
  if (auth !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return match?.[1];
  }
  if (allowSubprotocol) {
    const offered = (headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const carrier = offered.find((p) => p.startsWith(WS_TOKEN_PREFIX));
    if (carrier) return carrier.slice(WS_TOKEN_PREFIX.length);
  }
  return undefined;
}

export function checkToken(presented: string | undefined, expected: string): void {
  if (presented === undefined || !tokensEqual(presented, expected)) {
    throw new HttpError(
      401,
      'UNAUTHORIZED',
      presented === undefined ? 'this API needs the Orchard token' : 'the Orchard token is wrong',
      'Send `Authorization: Bearer <token>` with the token from ORCHARD_HOME/orchard.json, or run `orchard open` for a fresh access link.',
    );
  }
}

/** Constant-time: compare fixed-length digests, so neither content nor length leaks through timing. */
export function tokensEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

/**
 * All three checks for one request. `needsToken` is false only for the UI's static files and the
 * session exchange. Without a token, the browser's session cookie stands in for it (session.ts).
 */
export function checkRequest(
  headers: IncomingHttpHeaders,
  o: { port: number; token: string; needsToken: boolean; websocket?: boolean; method?: string },
): void {
  checkHost(headers, o.port);
  checkOrigin(headers, o.port);
  if (!o.needsToken) return;
  const presented = presentedToken(headers, o.websocket === true);
  if (presented === undefined && presentedSession(headers) !== undefined) {
    checkSession(headers, { token: o.token, method: o.method ?? 'GET', websocket: o.websocket === true, sameValue: tokensEqual });
    return;
  }
  checkToken(presented, o.token);
}
