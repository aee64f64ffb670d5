import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { API_PREFIX } from './api-types.js';
import { HttpError } from './http-errors.js';

/**
 * The browser's session (DESIGN §8, issue 18): the access link (`#token=` or a one-time `#code=`)
 * is exchanged once for an HttpOnly, SameSite=Strict cookie scoped to the API path, so a second
 * tab, a bookmark and a reload work without the token ever living in page script or storage.
 *
 * The cookie is derived from the token (HMAC), so it survives a server restart and dies when the
 * token changes. It is checked together with Host and Origin like the token; and because a
 * browser sends cookies on its own, a cookie-authenticated request that changes anything (every
 * method but GET/HEAD, and the WebSocket) must carry Orchard's own Origin, and Sec-Fetch-Site,
 * when sent, must say same-origin. The Bearer token (CLI, Electron) is unaffected.
 */
export const SESSION_COOKIE = 'orchard_session';
export const SESSION_PATH = `${API_PREFIX}/session`;
export const SESSION_LINK_PATH = `${API_PREFIX}/session/link`;
const MAX_AGE_SECONDS = 30 * 24 * 3600;
const CODE_TTL_MS = 5 * 60_000;

export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('orchard session v1').digest('base64url');
}

export function sessionCookieHeader(token: string): string {
  return `${SESSION_COOKIE}=${sessionValue(token)}; Path=${API_PREFIX}; HttpOnly; SameSite=Strict; Max-Age=${MAX_AGE_SECONDS}`;
}

export function clearedSessionCookieHeader(): string {
  return `${SESSION_COOKIE}=; Path=${API_PREFIX}; HttpOnly; SameSite=Strict; Max-Age=0`;
}

/** The session cookie's value, when the request carries one. */
export function presentedSession(headers: IncomingHttpHeaders): string | undefined {
  for (const part of (headers.cookie ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === SESSION_COOKIE) return rest.join('=');
  }
  return undefined;
}

/** A cookie-authenticated request: the cookie must be right, and a state change must come from Orchard's own page. */
export function checkSession(
  headers: IncomingHttpHeaders,
  o: { token: string; method: string; websocket: boolean; sameValue: (a: string, b: string) => boolean },
): void {
  const presented = presentedSession(headers) ?? '';
  if (!o.sameValue(presented, sessionValue(o.token))) {
    throw new HttpError(401, 'UNAUTHORIZED', 'this browser session is no longer valid', 'Run `orchard open` for a fresh access link.');
  }
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') {
    throw new HttpError(403, 'FORBIDDEN_ORIGIN', 'requests from other web pages are refused', 'Use the Orchard UI itself.');
  }
  const changes = o.websocket || (o.method !== 'GET' && o.method !== 'HEAD');
  if (changes && headers.origin === undefined) {
    throw new HttpError(
      403,
      'FORBIDDEN_ORIGIN',
      'a change made with the session cookie must come from the Orchard page (no Origin was sent)',
      'Use the Orchard UI, or send the Bearer token.',
    );
  }
}

/** One-time access codes for `orchard open`: short-lived, used once, bound to the token that made them. */
const codes = new Map<string, { token: string; expires: number }>();

export function mintLinkCode(token: string, now = Date.now()): string {
  for (const [code, entry] of codes) if (entry.expires <= now) codes.delete(code);
  const code = randomBytes(24).toString('base64url');
  codes.set(code, { token, expires: now + CODE_TTL_MS });
  return code;
}

export function takeLinkCode(code: string, token: string, now = Date.now()): boolean {
  const entry = codes.get(code);
  codes.delete(code);
  return entry !== undefined && entry.token === token && entry.expires > now;
}
