import assert from 'node:assert/strict';
import { stat, mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { routes } from '../../engine/api/routes/index.js';
import { WS_PROTOCOL, WS_TOKEN_PREFIX } from '../../engine/api/security.js';
import { tempDir } from '../helpers/paths.js';
import { rawRequest, rawUpgrade, startTestServer, type RawResponse, type TestServer } from './helpers.js';

let t: TestServer;
let cleanup: () => Promise<void>;
let root: string;
/** Every response body the server sent in this file: none may hold the token. */
const bodies: string[] = [];

before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard api security '));
  const ui = path.join(root, 'ui dist');
  await mkdir(path.join(ui, 'assets'), { recursive: true });
  await writeFile(path.join(ui, 'index.html'), '<!doctype html><title>Orchard UI</title>\n');
  await writeFile(path.join(ui, 'assets', 'app.js'), 'console.log("ui");\n');
  t = await startTestServer(path.join(root, 'home'), { uiDir: ui });
});
after(async () => {
  await t.server.close();
  await cleanup();
});

/** A concrete request for each route of the table (parameters filled in). */
function concrete(): { method: string; path: string }[] {
  return routes.map((r) => ({
    method: r.method === 'ALL' ? 'GET' : r.method,
    path: r.path.replace(/:id/g, 'api-app').replace(/\*$/, 'health'),
  }));
}

async function send(method: string, p: string, headers: Record<string, string>): Promise<RawResponse> {
  const res = await rawRequest(t.port, method, p, headers, method === 'GET' ? undefined : '{}');
  bodies.push(res.body);
  return res;
}

function assertRefusal(res: RawResponse, status: number, code: string, what: string): void {
  assert.equal(res.status, status, `${what}: expected ${status}, got ${res.status} ${res.body}`);
  const body = JSON.parse(res.body) as { error: { code: string; message: string } };
  assert.equal(body.error.code, code, what);
  assert.ok(body.error.message.length > 0, what);
  assertNoCors(res, what);
}

function assertNoCors(res: RawResponse, what: string): void {
  const cors = Object.keys(res.headers).filter((h) => h.startsWith('access-control-'));
  assert.deepEqual(cors, [], `${what}: no CORS header may be sent`);
}

test('the route table is not empty and covers the contract', () => {
  const paths = new Set(routes.map((r) => `${r.method} ${r.path}`));
  for (const expected of [
    'GET /api/v1/catalog',
    'GET /api/v1/apps',
    'POST /api/v1/apps/:id/install',
    'POST /api/v1/apps/:id/start',
    'ALL /api/v1/apps/:id/service/*',
    'GET /api/v1/doctor',
    'POST /api/v1/recipes/validate',
    'PUT /api/v1/settings',
  ]) {
    assert.ok(paths.has(expected), `missing route ${expected}`);
  }
});

test('every route refuses a missing or wrong token (401), a foreign Host (421) and a foreign Origin (403)', async () => {
  const host = `127.0.0.1:${t.port}`;
  const good = `Bearer ${t.token}`;
  const wrong = `Bearer ${t.token.slice(0, -1)}${t.token.endsWith('0') ? '1' : '0'}`;
  for (const { method, path: p } of concrete()) {
    const what = `${method} ${p}`;
    assertRefusal(await send(method, p, { host }), 401, 'UNAUTHORIZED', `${what} without token`);
    assertRefusal(await send(method, p, { host, authorization: wrong }), 401, 'UNAUTHORIZED', `${what} wrong token`);
    assertRefusal(await send(method, p, { host, authorization: 'Basic abc' }), 401, 'UNAUTHORIZED', `${what} basic auth`);
    assertRefusal(
      await send(method, p, { host: `evil.example:${t.port}`, authorization: good }),
      421,
      'MISDIRECTED',
      `${what} foreign host`,
    );
    assertRefusal(
      await send(method, p, { host: `127.0.0.1:${t.port + 1}`, authorization: good }),
      421,
      'MISDIRECTED',
      `${what} other port`,
    );
    assertRefusal(
      await send(method, p, { host: `127.0.0.1.nip.io:${t.port}`, authorization: good }),
      421,
      'MISDIRECTED',
      `${what} rebinding name`,
    );
    assertRefusal(
      await send(method, p, { host, authorization: good, origin: 'http://evil.example' }),
      403,
      'FORBIDDEN_ORIGIN',
      `${what} foreign origin`,
    );
    assertRefusal(
      await send(method, p, { host, authorization: good, origin: `http://127.0.0.1:${t.port + 1}` }),
      403,
      'FORBIDDEN_ORIGIN',
      `${what} other-port origin`,
    );
    assertRefusal(await send(method, p, { host, authorization: good, origin: 'null' }), 403, 'FORBIDDEN_ORIGIN', `${what} null origin`);
    // The control: with everything right the checks let it through (the route may still say 404 or 501).
    const ok = await send(method, p, { host: `localhost:${t.port}`, authorization: good, origin: `http://localhost:${t.port}` });
    assert.ok(![401, 403, 421].includes(ok.status), `${what} with the token: ${ok.status} ${ok.body}`);
    assertNoCors(ok, what);
  }
});

test('an unknown API path is refused before it is looked up', async () => {
  assertRefusal(
    await send('GET', '/api/v1/does-not-exist', { host: `127.0.0.1:${t.port}` }),
    401,
    'UNAUTHORIZED',
    'unknown path without token',
  );
  const known = await send('GET', '/api/v1/does-not-exist', { host: `127.0.0.1:${t.port}`, authorization: `Bearer ${t.token}` });
  assert.equal(known.status, 404);
});

test('the WebSocket refuses a missing or wrong token, a foreign Host and a foreign Origin', async () => {
  const p = '/api/v1/events';
  const host = `127.0.0.1:${t.port}`;
  const proto = `${WS_PROTOCOL}, ${WS_TOKEN_PREFIX}${t.token}`;
  const cases: [Record<string, string>, number, string][] = [
    [{ host }, 401, 'no token'],
    [{ host, 'sec-websocket-protocol': `${WS_PROTOCOL}, ${WS_TOKEN_PREFIX}nope` }, 401, 'wrong token'],
    [{ host: `evil.example:${t.port}`, 'sec-websocket-protocol': proto }, 421, 'foreign host'],
    [{ host, 'sec-websocket-protocol': proto, origin: 'http://evil.example' }, 403, 'foreign origin'],
    [
      { host, 'sec-websocket-protocol': `${WS_PROTOCOL}, ${WS_TOKEN_PREFIX}${t.token}`, origin: `http://127.0.0.1:${t.port}` },
      101,
      'all right',
    ],
    [{ host, authorization: `Bearer ${t.token}` }, 101, 'bearer header'],
  ];
  for (const [headers, status, what] of cases) {
    const res = await rawUpgrade(t.port, p, headers);
    bodies.push(res.body);
    assert.equal(res.status, status, `WebSocket ${what}: ${res.body}`);
    if (status !== 101) assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code.length > 0, true);
  }
  // Another path on the upgrade is refused too (401 first, 404 once authenticated).
  assert.equal((await rawUpgrade(t.port, '/api/v1/other', { host })).status, 401);
  assert.equal((await rawUpgrade(t.port, '/api/v1/other', { host, 'sec-websocket-protocol': proto })).status, 404);

  // A real client with the token subprotocol gets the hello, and the selected protocol is not the token.
  const ws = new WebSocket(`ws://127.0.0.1:${t.port}${p}`, [WS_PROTOCOL, `${WS_TOKEN_PREFIX}${t.token}`]);
  const hello = await new Promise<string>((resolve, reject) => {
    ws.once('message', (d) => resolve(String(d)));
    ws.once('error', reject);
  });
  assert.equal(ws.protocol, WS_PROTOCOL);
  assert.equal((JSON.parse(hello) as { type: string }).type, 'hello');
  ws.terminate();
  // A real client with a wrong token never opens.
  const bad = new WebSocket(`ws://127.0.0.1:${t.port}${p}`, [WS_PROTOCOL, `${WS_TOKEN_PREFIX}wrong`]);
  const status = await new Promise<number>((resolve) => {
    bad.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    bad.once('open', () => resolve(101));
    bad.once('error', () => undefined);
  });
  bad.terminate();
  assert.equal(status, 401);
});

test('the server is bound to 127.0.0.1 only: another loopback address and the LAN addresses refuse', async () => {
  assert.equal(t.server.address, '127.0.0.1');
  const refused = (host: string): Promise<string> =>
    new Promise((resolve) => {
      const socket = net.connect({ host, port: t.port, timeout: 3000 });
      socket.once('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve('timeout');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
  assert.equal(await refused('127.0.0.1'), 'connected', 'control: the server listens');
  assert.equal(await refused('127.0.0.2'), 'ECONNREFUSED');
  const lan = Object.values(os.networkInterfaces())
    .flat()
    .filter((i) => i && i.family === 'IPv4' && !i.internal);
  for (const iface of lan) assert.notEqual(await refused(iface!.address), 'connected', `reachable on ${iface!.address}`);
});

test('orchard.json and server.json are mode 0600', async () => {
  const home = t.server.context.home;
  assert.equal((await stat(home.settingsFile)).mode & 0o777, 0o600);
  assert.equal((await stat(path.join(home.root, 'server.json'))).mode & 0o777, 0o600);
});

test('the UI is served from its folder only; nothing under ORCHARD_HOME is reachable as a file', async () => {
  const host = `127.0.0.1:${t.port}`;
  const index = await send('GET', '/', { host });
  assert.equal(index.status, 200);
  assert.match(index.body, /Orchard UI/);
  assert.match(String(index.headers['content-security-policy']), /default-src 'self'/);
  const asset = await send('GET', '/assets/app.js', { host });
  assert.equal(asset.body, 'console.log("ui");\n');
  assert.match(String(asset.headers['content-type']), /javascript/);
  // SPA fallback and traversal attempts all end at index.html, never at orchard.json.
  for (const p of [
    '/apps/foo',
    '/../home/orchard.json',
    '/..%2fhome%2forchard.json',
    '/%2e%2e/home/orchard.json',
    '/home/orchard.json',
    '/orchard.json',
  ]) {
    const res = await send('GET', p, { host });
    assert.equal(res.status, 200, p);
    assert.match(res.body, /Orchard UI/, p);
    assert.ok(!res.body.includes(t.token), p);
  }
  // Host and Origin checks apply to the UI as well.
  assert.equal((await send('GET', '/', { host: `evil.example:${t.port}` })).status, 421);
  assert.equal((await send('GET', '/', { host, origin: 'http://evil.example' })).status, 403);
});

test('the token never appears in a response body or a server log line', () => {
  assert.ok(bodies.length > routes.length * 5, 'the other tests ran first and collected bodies');
  for (const body of bodies) assert.ok(!body.includes(t.token), `a response body holds the token: ${body.slice(0, 200)}`);
  for (const line of t.logs) assert.ok(!line.includes(t.token), `a log line holds the token: ${line}`);
});
