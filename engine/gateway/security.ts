import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from './gateway-error.js';

/**
 * The gateway's request checks, in order:
 * 1. Host must be a loopback name (421): a DNS-rebinding page sends its own host name.
 * 2. Origin, when a browser sends one, must be allowed (403): loopback pages (any port, as Ollama
 *    allows them) and the `gateway.origins` / ORCHARD_GATEWAY_ORIGINS patterns, like OLLAMA_ORIGINS
 *    (`https://chat.example`, `http://localhost:*`, `app://*`). Allowed origins get CORS headers.
 * 3. With `gateway.apiKey` set, `Authorization: Bearer <key>` (401). Off by default: editors on
 *    this machine cannot send Orchard's token, and only loopback clients reach 127.0.0.1.
 */
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const DEFAULT_ORIGINS = [
  'http://localhost',
  'https://localhost',
  'http://localhost:*',
  'https://localhost:*',
  'http://127.0.0.1',
  'https://127.0.0.1',
  'http://127.0.0.1:*',
  'https://127.0.0.1:*',
  'http://[::1]:*',
];

export interface GatewayAccess {
  port: number;
  origins: string[];
  apiKey?: string;
}

export function checkGatewayRequest(headers: IncomingHttpHeaders, access: GatewayAccess, preflight = false): void {
  const host = (headers.host ?? '').toLowerCase();
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');
  const port = host.slice(name.length + 1);
  if (!LOOPBACK.has(name) || (port !== '' && port !== String(access.port))) {
    throw new GatewayError(421, 'this gateway only answers requests addressed to 127.0.0.1 or localhost', { code: 'misdirected' });
  }
  const origin = headers.origin;
  if (origin !== undefined && !originAllowed(origin, access.origins)) {
    throw new GatewayError(
      403,
      `requests from the web page ${origin} are refused; allow it with gateway.origins in orchard.json or ORCHARD_GATEWAY_ORIGINS`,
      { code: 'forbidden_origin' },
    );
  }
  if (access.apiKey !== undefined && !preflight) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
    if (!match?.[1] || !sameSecret(match[1], access.apiKey)) {
      throw new GatewayError(401, 'this gateway needs its API key: send Authorization: Bearer <gateway.apiKey from orchard.json>', {
        code: 'invalid_api_key',
        type: 'authentication_error',
      });
    }
  }
}

export function originAllowed(origin: string, patterns: readonly string[]): boolean {
  const o = origin.toLowerCase();
  return [...DEFAULT_ORIGINS, ...patterns].some((p) => {
    const pattern = p.toLowerCase();
    if (pattern === '*') return true;
    if (!pattern.includes('*')) return pattern === o;
    const re = new RegExp(
      `^${pattern
        .split('*')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^/]*')}$`,
    );
    return re.test(o);
  });
}

function sameSecret(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}
