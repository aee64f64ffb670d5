import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { findRoute, matchPath, readJson, sendJson } from '../../engine/core/http-kit.js';

test('paths: parameters are single decoded segments, a final * takes the rest', () => {
  assert.deepEqual(matchPath('/v1/jobs/:id', '/v1/jobs/a%20b'), { id: 'a b' });
  assert.deepEqual(matchPath('/apps/:id/service/*', '/apps/x/service/v1/chat'), { id: 'x', '*': 'v1/chat' });
  for (const bad of ['/v1/jobs/..', '/v1/jobs/a%2Fb', '/v1/jobs/%E0%A4%A', '/v1/jobs/', '/v1/jobs/a/b']) {
    assert.equal(matchPath('/v1/jobs/:id', bad), undefined, bad);
  }
  const routes = [
    { method: 'GET', path: '/v1/jobs' },
    { method: 'POST', path: '/v1/jobs' },
  ];
  const errors = { notFound: () => new Error('404'), notAllowed: (allowed: string[]) => new Error(`405 ${allowed.join(',')}`) };
  assert.equal(findRoute(routes, 'HEAD', '/v1/jobs', errors).route, routes[0]);
  assert.throws(() => findRoute(routes, 'PUT', '/v1/jobs', errors), /405 GET,POST/);
  assert.throws(() => findRoute(routes, 'GET', '/v1/other', errors), /404/);
});

test('a JSON body over the limit or not JSON is refused with the caller’s error; a good one is answered', async () => {
  const server = http.createServer((req, res) => {
    readJson(req, { maxBytes: 64, tooLarge: (max) => new Error(`over ${max}`), badJson: () => new Error('not json'), empty: {} })
      .then((value) => sendJson(res, 200, { echo: value }))
      .catch((err: Error) => sendJson(res, 400, { error: err.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const post = async (body: string) => {
    const r = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    return { status: r.status, type: r.headers.get('content-type'), value: (await r.json()) as unknown };
  };
  try {
    assert.deepEqual(await post('{"a":1}'), { status: 200, type: 'application/json; charset=utf-8', value: { echo: { a: 1 } } });
    assert.deepEqual((await post('')).value, { echo: {} });
    assert.deepEqual((await post('{"a":')).value, { error: 'not json' });
    assert.deepEqual((await post(JSON.stringify({ a: 'x'.repeat(100) }))).value, { error: 'over 64' });
  } finally {
    server.close();
  }
});
