import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { tempDir } from '../helpers/paths.js';
import { writeTinyGguf } from '../helpers/tiny-gguf.js';
import { startService, type RunningService } from './service-helpers.js';

let service: RunningService;
let cleanup: () => Promise<void>;

before(async () => {
  const t = await tempDir();
  cleanup = t.cleanup;
  const model = path.join(t.dir, 'random.gguf');
  await writeTinyGguf(model, { mode: 'random', seed: 7, ctx: 2048 });
  service = await startService(model, ['--parallel', '1', '--context', '2048']);
});

after(async () => {
  await service?.stop();
  await cleanup?.();
});

async function complete(body: object): Promise<{ text: string; finish: string }> {
  const res = await fetch(`${service.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200);
  const r = (await res.json()) as { choices: { text: string; finish_reason: string }[] };
  return { text: r.choices[0]!.text, finish: r.choices[0]!.finish_reason };
}

test('a fixed seed gives the same sampled text; another seed differs', async () => {
  const body = { prompt: 'Once', temperature: 0.9, max_tokens: 48, seed: 1234 };
  const a = await complete(body);
  const b = await complete(body);
  const c = await complete({ ...body, seed: 99 });
  assert.ok(a.text.length > 0);
  assert.equal(a.text, b.text);
  assert.notEqual(a.text, c.text);
});

test('a long stream (coalesced socket writes) joins to exactly the non-streamed text, events in order', async () => {
  const body = { prompt: 'Once', temperature: 0.9, max_tokens: 300, seed: 77 };
  const whole = await complete(body);
  const res = await fetch(`${service.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true, stream_options: { include_usage: true } }),
  });
  const raw = await res.text();
  const events = raw.split('\n\n').filter((e) => e.length > 0);
  assert.ok(
    events.every((e) => e.startsWith('data: ')),
    raw.slice(0, 200),
  );
  assert.equal(events.at(-1), 'data: [DONE]');
  const parsed = events
    .slice(0, -1)
    .map(
      (e) => JSON.parse(e.slice(6)) as { choices: { text: string; finish_reason: string | null }[]; usage?: { completion_tokens: number } },
    );
  const usage = parsed.at(-1)!.usage;
  const chunks = parsed.slice(0, -1);
  assert.equal(chunks.map((c) => c.choices[0]!.text).join(''), whole.text);
  assert.deepEqual(chunks.map((c) => c.choices[0]!.finish_reason).slice(0, -1), Array(chunks.length - 1).fill(null));
  assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, whole.finish);
  assert.ok(usage && usage.completion_tokens > 50 && chunks.length > 20, `${chunks.length} chunks, usage ${JSON.stringify(usage)}`);
});

test('a client that disconnects mid-stream cancels generation and frees the only sequence', async () => {
  const controller = new AbortController();
  const res = await fetch(`${service.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'Once', temperature: 1, seed: 5, max_tokens: 100_000, stream: true }),
    signal: controller.signal,
  });
  const reader = res.body!.getReader();
  let chunks = 0;
  while (chunks < 3) {
    const { done } = await reader.read();
    assert.equal(done, false, 'the stream ended before it could be cancelled');
    chunks++;
  }
  controller.abort();
  // With --parallel 1 a new request can only run once the aborted one has released the sequence.
  const started = Date.now();
  const next = await complete({ prompt: 'Once', temperature: 0, max_tokens: 4 });
  assert.ok(next.text.length > 0);
  assert.ok(Date.now() - started < 5000, 'the sequence was not freed promptly');
  const m = (await (await fetch(`${service.url}/metrics`)).json()) as {
    requests: { cancelled: number };
    active: number;
    queueDepth: number;
  };
  assert.equal(m.requests.cancelled, 1);
  assert.equal(m.active, 0);
  assert.equal(m.queueDepth, 0);
});
