import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { isInside } from '../core/home.js';
import { BASE_HEADERS, sendJson } from './http-io.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/**
 * The UI may talk to its own server only, and never be framed. connect-src names the exact
 * WebSocket origin (`'self'` covers ws: only in CSP 3 browsers); the Host it is built from was
 * already checked to be a loopback name on this server's port.
 */
export function uiHeaders(host: string | undefined): Record<string, string> {
  const ws = host && /^(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$/i.test(host) ? ` ws://${host.toLowerCase()}` : '';
  return {
    ...BASE_HEADERS,
    'content-security-policy':
      `default-src 'self'; connect-src 'self'${ws}; img-src 'self' data: blob:; media-src 'self' blob:; ` +
      `style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`,
  };
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Orchard</title>
<p>The Orchard web UI is not built. Run <code>npm run build</code> and reload this page.</p>\n`;

/**
 * Serves the built UI (ui/dist) and nothing else: a path is resolved inside that folder or refused,
 * and a path that names no file gets index.html (the UI routes in the browser).
 */
export async function serveUi(uiDir: string | undefined, req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${req.method ?? ''} is not allowed on the UI` } });
    return;
  }
  const UI_HEADERS = uiHeaders(req.headers.host);
  if (!uiDir) {
    res.writeHead(200, { ...UI_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : NOT_BUILT);
    return;
  }
  let relative: string;
  try {
    relative = decodeURIComponent(pathname);
  } catch {
    relative = '/';
  }
  const target = path.resolve(uiDir, `.${path.posix.normalize(relative)}`);
  let file = path.join(uiDir, 'index.html');
  if (!relative.includes('\0') && isInside(uiDir, target)) {
    const info = await stat(target).catch(() => undefined);
    if (info?.isFile()) file = target;
  }
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) {
    res.writeHead(200, { ...UI_HEADERS, 'content-type': 'text/html; charset=utf-8' });
    res.end(req.method === 'HEAD' ? undefined : NOT_BUILT);
    return;
  }
  const ext = path.extname(file).toLowerCase();
  // Vite's hashed assets never change; index.html must be revalidated to see a new build.
  const cache = file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache';
  res.writeHead(200, {
    ...UI_HEADERS,
    'content-type': TYPES[ext] ?? 'application/octet-stream',
    'content-length': info.size,
    'cache-control': cache,
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}
