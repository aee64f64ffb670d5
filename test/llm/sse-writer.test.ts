import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SseWriter } from '../../engine/services/llm/sse-writer.js';

/**
 * A real HTTP response on loopback, read by node:http, which hands over one `data` chunk per
 * chunked-encoding chunk: that is, one per write of the writer.
 */
async function withStream(interval: number, script: (sse: SseWriter, next: () => Promise<string>) => Promise<void>): Promise<string> {
  let sse!: SseWriter;
  const server = http.createServer();
  const ready = new Promise<void>((resolve) => {
    server.once('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      sse = new SseWriter(res, interval);
      resolve();
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const chunks: string[] = [];
  const waiters: ((s: string) => void)[] = [];
  let body = '';
  const finished = new Promise<void>((resolve, reject) => {
    http
      .get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, (res) => {
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
          const w = waiters.shift();
          if (w) w(c);
          else chunks.push(c);
        });
        res.on('end', resolve);
      })
      .on('error', reject);
  });
  const next = () => (chunks.length > 0 ? Promise.resolve(chunks.shift()!) : new Promise<string>((r) => waiters.push(r)));
  await ready;
  try {
    await script(sse, next);
    await finished;
  } finally {
    server.closeAllConnections();
    server.close();
  }
  return body;
}

test('the first event goes out at once, events inside the interval share one write, order and bytes are kept', async () => {
  const body = await withStream(600, async (sse, next) => {
    const t0 = performance.now();
    sse.event('{"n":1}');
    assert.equal(await next(), 'data: {"n":1}\n\n');
    assert.ok(performance.now() - t0 < 400, 'the first event must not wait for the interval');
    sse.event('{"n":2}');
    sse.event('{"n":3}');
    sse.event('{"n":4}');
    assert.equal(await next(), 'data: {"n":2}\n\ndata: {"n":3}\n\ndata: {"n":4}\n\n');
    assert.ok(performance.now() - t0 > 590, 'events right after a write wait for the interval');
    sse.event('{"n":5}');
    sse.end(['{"n":6}', '[DONE]']);
  });
  assert.equal(body, [1, 2, 3, 4, 5, 6].map((n) => `data: {"n":${n}}\n\n`).join('') + 'data: [DONE]\n\n');
});

test('an event after a quiet spell longer than the interval is written without waiting', async () => {
  await withStream(500, async (sse, next) => {
    sse.event('{"n":1}');
    await next();
    await sleep(600); // a slow model: the next token comes long after the last write
    const t0 = performance.now();
    sse.event('{"n":2}');
    assert.equal(await next(), 'data: {"n":2}\n\n');
    assert.ok(performance.now() - t0 < 400, 'a token after a quiet spell must not be held back');
    sse.end(['[DONE]']);
  });
});
