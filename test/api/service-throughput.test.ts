import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { readThroughput } from '../../engine/api/service-throughput.js';
import { ServiceMetrics } from '../../engine/openai/metrics.js';

/** A loopback server answering one path with a body (what the real service's route would send). */
async function serve(path: string, body: () => unknown, delayMs = 0): Promise<{ port: number; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    setTimeout(() => {
      if (req.url !== path) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body()));
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

test("tokens/s comes from the LLM service's own /metrics counters (none before the first completion)", async () => {
  const metrics = new ServiceMetrics();
  const snapshot = () => metrics.snapshot({ active: 0, queueDepth: 0, parallel: 1 });
  const llm = await serve('/metrics', snapshot);
  try {
    assert.deepEqual(await readThroughput(llm.port, 'llm'), {}, 'no completion yet: no speed');
    // 41 tokens decoded in 2 s after the first: 20 tokens/s.
    metrics.generation({ promptTokens: 5, completionTokens: 41, ttftMs: 30, decodeMs: 2000 });
    const first = await readThroughput(llm.port, 'llm');
    assert.deepEqual(first, { tokensPerSecond: 20, completionTokens: 41 });
    // Idle, nothing new since that read: the chart falls to zero when generation has ended.
    assert.deepEqual(await readThroughput(llm.port, 'llm', first), { tokensPerSecond: 0, completionTokens: 41 });
    // A new completion shows its own speed again.
    metrics.generation({ promptTokens: 5, completionTokens: 11, ttftMs: 30, decodeMs: 1000 });
    assert.deepEqual(await readThroughput(llm.port, 'llm', first), { tokensPerSecond: 10, completionTokens: 52 });
  } finally {
    await llm.close();
  }
});

test('steps/s is the sampling speed of the running image/video job; none when idle, decoding or unreachable', async () => {
  let jobs: unknown[] = [];
  const media = await serve('/v1/jobs', () => ({ jobs }));
  try {
    assert.deepEqual(await readThroughput(media.port, 'media'), {});
    const progress = { step: 3, steps: 40, speed: 14.13, unit: 's/it', secondsPerStep: 14.13, etaSeconds: 522.8 };
    jobs = [
      { id: 'a', state: 'completed', phase: 'done', progress: { ...progress, secondsPerStep: 1 } },
      { id: 'b', state: 'running', phase: 'sampling', progress },
    ];
    assert.deepEqual(await readThroughput(media.port, 'media'), { stepsPerSecond: 0.071 });
    // While decoding, sd.cpp's bar counts VAE tiles, not steps.
    jobs = [{ id: 'b', state: 'running', phase: 'decoding', progress: { ...progress, secondsPerStep: 0.2 } }];
    assert.deepEqual(await readThroughput(media.port, 'media'), {});
  } finally {
    await media.close();
  }
  assert.equal(await readThroughput(media.port, 'media'), undefined, 'a closed port is no answer, not an error');
  const slow = await serve('/metrics', () => ({ tokensPerSecond: { last: 9 } }), 3000);
  try {
    const started = Date.now();
    assert.equal(await readThroughput(slow.port, 'llm'), undefined);
    assert.ok(Date.now() - started < 2000, 'a slow service does not hold the metrics sample back');
  } finally {
    await slow.close();
  }
});
