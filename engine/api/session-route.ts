import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiContext } from './api-context.js';
import { HttpError } from './http-errors.js';
import { field, readJsonBody, sendJson } from './http-io.js';
import { presentedToken, tokensEqual } from './security.js';
import {
  clearedSessionCookieHeader,
  mintLinkCode,
  presentedSession,
  SESSION_PATH,
  sessionCookieHeader,
  sessionValue,
  takeLinkCode,
} from './session.js';

export { SESSION_PATH };

/**
 * /api/v1/session — the one API path that needs no token up front (Host and Origin are checked):
 *   POST  with `Authorization: Bearer <token>` or body { code } → sets the session cookie
 *   GET   → 200 when the cookie (or a token) is good, 401 otherwise: how the UI knows after a reload
 *   DELETE → clears the cookie
 * Only Orchard's own page may exchange a link: the POST must carry its Origin.
 */
export async function sessionExchange(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  if (method === 'GET') {
    const token = presentedToken(req.headers, false);
    const cookie = presentedSession(req.headers);
    const ok = token !== undefined ? tokensEqual(token, ctx.token) : cookie !== undefined && tokensEqual(cookie, sessionValue(ctx.token));
    if (!ok)
      throw new HttpError(
        401,
        'UNAUTHORIZED',
        'this browser has no valid Orchard session',
        'Open the access link `orchard serve` or `orchard open` prints.',
      );
    sendJson(res, 200, { ok: true });
    return;
  }
  if (method === 'DELETE') {
    res.setHeader('set-cookie', clearedSessionCookieHeader());
    sendJson(res, 200, { ok: true });
    return;
  }
  if (method !== 'POST') throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${SESSION_PATH}`);
  if (req.headers.origin === undefined) {
    throw new HttpError(
      403,
      'FORBIDDEN_ORIGIN',
      'an access link is exchanged by the Orchard page only (no Origin was sent)',
      'Open the link in a browser.',
    );
  }
  const body = await readJsonBody(req);
  const code = field.string(body, 'code');
  const token = presentedToken(req.headers, false);
  const good = code !== undefined ? takeLinkCode(code, ctx.token) : token !== undefined && tokensEqual(token, ctx.token);
  if (!good) {
    throw new HttpError(
      401,
      'UNAUTHORIZED',
      code !== undefined ? 'this access link has expired or was already used' : 'this access link has the wrong token',
      'Run `orchard open` for a fresh link (or copy the one `orchard serve` printed).',
    );
  }
  res.setHeader('set-cookie', sessionCookieHeader(ctx.token));
  sendJson(res, 200, { ok: true });
}

/** POST /api/v1/session/link (authenticated): a one-time link for `orchard open`, valid for a few minutes. */
export function mintLink(ctx: ApiContext): { url: string; expiresInSeconds: number } {
  return { url: `http://127.0.0.1:${ctx.port}/#code=${mintLinkCode(ctx.token)}`, expiresInSeconds: 300 };
}
