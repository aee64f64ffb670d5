import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sessionValue } from '../../engine/api/session.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { rawRequest, rawUpgrade, startTestServer, type TestServer } from './helpers.js';

let t: TestServer;
let cleanup: () => Promise<void>;
let root: string;
let host: string;
let origin: string;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard session '));
  t = await startTestServer(path.join(root, 'home'));
  host = `127.0.0.1:${t.port}`;
  origin = `http://${host}`;
});
after(async () => {
  await t.server.close();
  await cleanup();
});

function errorOf(body: string): { code: string; message: string } {
  return (JSON.parse(body) as { error: { code: string; message: string } }).error;
}

test('the access link is exchanged for an HttpOnly, SameSite=Strict cookie scoped to the API; a wrong token says so', async () => {
  const wrong = await rawRequest(t.port, 'POST', '/api/v1/session', { host, origin, authorization: 'Bearer nope' }, '{}');
  assert.equal(wrong.status, 401);
  assert.equal(errorOf(wrong.body).message, 'this access link has the wrong token');
  assert.equal(wrong.headers['set-cookie'], undefined);

  const noOrigin = await rawRequest(t.port, 'POST', '/api/v1/session', { host, authorization: `Bearer ${t.token}` }, '{}');
  assert.equal(noOrigin.status, 403, 'only a page (which sends its Origin) exchanges a link');
  const foreign = await rawRequest(
    t.port,
    'POST',
    '/api/v1/session',
    { host, origin: 'http://evil.example', authorization: `Bearer ${t.token}` },
    '{}',
  );
  assert.equal(foreign.status, 403);

  const ok = await rawRequest(t.port, 'POST', '/api/v1/session', { host, origin, authorization: `Bearer ${t.token}` }, '{}');
  assert.equal(ok.status, 200, ok.body);
  const cookie = ok.headers['set-cookie']?.[0] ?? '';
  assert.match(cookie, /^orchard_session=[\w-]+; Path=\/api\/v1; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
  assert.ok(!cookie.includes(t.token), 'the cookie is not the token');
});

test("the cookie reads like the token, but a change needs Orchard's own Origin (no CSRF), and a stale cookie is refused", async () => {
  const cookie = `orchard_session=${sessionValue(t.token)}`;
  // A reload or a second tab: GETs with the cookie work (SameSite=Strict keeps other sites' requests cookie-less).
  assert.equal((await rawRequest(t.port, 'GET', '/api/v1/session', { host, cookie })).status, 200);
  assert.equal((await rawRequest(t.port, 'GET', '/api/v1/apps', { host, cookie })).status, 200);
  assert.equal((await rawRequest(t.port, 'GET', '/api/v1/session', { host })).status, 401);

  const change = (headers: Record<string, string>) =>
    rawRequest(t.port, 'PUT', '/api/v1/settings', { host, cookie, ...headers }, '{"concurrency":2}');
  assert.equal((await change({})).status, 403, 'no Origin: refused');
  assert.equal((await change({ origin: 'http://evil.example' })).status, 403);
  assert.equal((await change({ origin, 'sec-fetch-site': 'cross-site' })).status, 403);
  assert.equal((await change({ origin, 'sec-fetch-site': 'same-origin' })).status, 200);
  assert.equal(
    (await rawRequest(t.port, 'GET', '/api/v1/apps', { host: `evil.example:${t.port}`, cookie })).status,
    421,
    'Host is still checked',
  );

  const stale = await rawRequest(t.port, 'GET', '/api/v1/apps', { host, cookie: 'orchard_session=old' });
  assert.equal(stale.status, 401);
  assert.match(errorOf(stale.body).message, /session is no longer valid/);

  // The WebSocket: the cookie with Orchard's Origin opens it; without an Origin it stays shut.
  assert.equal((await rawUpgrade(t.port, '/api/v1/events', { host, cookie, origin, 'sec-websocket-protocol': 'orchard.v1' })).status, 101);
  assert.equal((await rawUpgrade(t.port, '/api/v1/events', { host, cookie, 'sec-websocket-protocol': 'orchard.v1' })).status, 403);
  assert.equal((await rawUpgrade(t.port, '/api/v1/events', { host, cookie: 'orchard_session=old', origin })).status, 401);
});

test('orchard open prints a fresh one-time link with a code (never the token); the code works once', async () => {
  // The CLI finds this test server through server.json in its home.
  const opened = await runCli(['open', '--json'], { home: path.join(root, 'home') });
  assert.equal(opened.code, 0, opened.stderr);
  const { url } = parseJson<{ url: string }>(opened);
  assert.match(url, new RegExp(`^http://127\\.0\\.0\\.1:${t.port}/#code=[\\w-]+$`));
  assert.ok(!url.includes(t.token));
  const code = url.split('#code=')[1] ?? '';
  const first = await rawRequest(t.port, 'POST', '/api/v1/session', { host, origin }, JSON.stringify({ code }));
  assert.equal(first.status, 200, first.body);
  assert.match(first.headers['set-cookie']?.[0] ?? '', /^orchard_session=/);
  const again = await rawRequest(t.port, 'POST', '/api/v1/session', { host, origin }, JSON.stringify({ code }));
  assert.equal(again.status, 401);
  assert.equal(errorOf(again.body).message, 'this access link has expired or was already used');
  const text = await runCli(['open'], { home: path.join(root, 'home') });
  assert.match(text.stdout, /^http:\/\/127\.0\.0\.1:\d+\/#code=[\w-]+\n\(one-time link, valid 5 minutes\)\n$/);
});
