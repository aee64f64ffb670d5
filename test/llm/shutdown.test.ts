import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { tempDir } from '../helpers/paths.js';
import { writeTinyGguf } from '../helpers/tiny-gguf.js';
import { startService } from './service-helpers.js';

// node-llama-cpp loads signal-exit (via proper-lockfile), which re-raises a signal when it finds
// itself the only listener: a service whose own handler was gone would die before its cleanup.
let model: string;
let cleanup: () => Promise<void>;

before(async () => {
  const t = await tempDir();
  cleanup = t.cleanup;
  model = path.join(t.dir, 'random.gguf');
  await writeTinyGguf(model, { mode: 'random', seed: 3, ctx: 2048 });
});
after(async () => cleanup?.());

/** Start a long streaming completion and wait until tokens flow, so shutdown has work to cut. */
async function streamingRequest(url: string): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const res = await fetch(`${url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'Once', temperature: 1, seed: 5, max_tokens: 100_000, stream: true }),
  });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  for (let i = 0; i < 3; i++) assert.equal((await reader.read()).done, false);
  return reader;
}

async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  try {
    while (!(await reader.read()).done);
  } catch {
    // the connection was cut: that is what shutdown does to a stream in flight
  }
}

for (const signals of [['SIGTERM'], ['SIGTERM', 'SIGTERM'], ['SIGINT', 'SIGTERM']] as const) {
  test(`${signals.join(' then ')} during a streaming generation: cleanup completes, "stopped", exit 0`, async () => {
    const service = await startService(model, ['--parallel', '1', '--context', '2048']);
    try {
      const reader = await streamingRequest(service.url);
      const sent = Date.now();
      service.child.kill(signals[0]);
      if (signals.length > 1) {
        // The second signal arrives while the first one's cleanup runs.
        while (!/stopping/.test(service.output()) && service.child.exitCode === null && Date.now() - sent < 5000)
          await new Promise((r) => setTimeout(r, 2));
        service.child.kill(signals[1]);
      }
      const [exit] = await Promise.all([service.exit, drain(reader)]);
      const ms = Date.now() - sent;
      assert.deepEqual(exit, { code: 0, signal: null }, service.output());
      assert.match(service.output(), /orchard llm: SIG(TERM|INT), stopping\n(.*\n)*orchard llm: stopped\n/, service.output());
      assert.ok(ms < 5000, `shutdown took ${ms} ms`);
    } finally {
      if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
    }
  });
}
