import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { tempDir } from '../helpers/paths.js';
import { writeTinyGguf } from '../helpers/tiny-gguf.js';
import { startService, type RunningService } from './service-helpers.js';

// The official openai client against the real service running real llama.cpp on a generated model.
let service: RunningService;
let client: OpenAI;
let cleanup: () => Promise<void>;

before(async () => {
  const t = await tempDir();
  cleanup = t.cleanup;
  const model = path.join(t.dir, 'tiny successor.gguf');
  await writeTinyGguf(model, { mode: 'successor', f16: true, ctx: 512 });
  service = await startService(model, ['--parallel', '1']);
  client = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 20_000 });
});

after(async () => {
  const code = await service?.stop();
  assert.equal(code, 0, `service should exit 0 on SIGTERM:\n${service?.output()}`);
  await cleanup?.();
});

test('start-up line names the backend, devices, offloaded layers and memory', () => {
  assert.match(service.output(), /orchard llm ready: backend=cpu devices=none layers offloaded 0\/3 .*memory rss=\d+MiB/);
  assert.match(service.output(), /CPU only/);
});

test('/health reports the model, backend and layers', async () => {
  const health = (await (await fetch(`${service.url}/health`)).json()) as Record<string, unknown>;
  assert.equal(health['status'], 'ok');
  assert.equal(health['model'], 'tiny successor');
  assert.equal(health['backend'], 'cpu');
  assert.equal(health['gpuLayers'], 0);
  assert.equal(health['totalLayers'], 3);
  assert.equal(health['contextSize'], 512);
  assert.ok((health['memory'] as { rssBytes: number }).rssBytes > 10_000_000);
});

test('models.list names the loaded model', async () => {
  const models = await client.models.list();
  assert.deepEqual(
    models.data.map((m) => m.id),
    ['tiny successor'],
  );
});

test('chat, non-streaming: the successor model answers the alphabet, with usage', async () => {
  const r = await client.chat.completions.create({
    model: 'tiny successor',
    messages: [{ role: 'user', content: 'Hi there' }],
    temperature: 0,
  });
  assert.equal(r.choices[0]?.message.content, 'abcdefghijklmnopqrstuvwxyz');
  assert.equal(r.choices[0]?.finish_reason, 'stop');
  assert.ok(r.usage && r.usage.prompt_tokens > 5);
  assert.equal(r.usage?.completion_tokens, 26);
});

test('chat, streaming: chunks join to the same text; max_tokens gives finish_reason length', async () => {
  const stream = await client.chat.completions.create({
    model: 'm',
    messages: [{ role: 'user', content: 'Hi there' }],
    temperature: 0,
    max_tokens: 5,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let finish: string | null | undefined;
  let usage: { completion_tokens: number } | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(text, 'abcde');
  assert.equal(finish, 'length');
  assert.equal(usage?.completion_tokens, 5);
});

test('completions: "Hello" continues with the rest of the alphabet; stop strings cut it', async () => {
  const r = await client.completions.create({ model: 'm', prompt: 'Hello', temperature: 0, max_tokens: 40 });
  assert.equal(r.choices[0]?.text, 'pqrstuvwxyz');
  const cut = await client.completions.create({ model: 'm', prompt: 'abc', temperature: 0, max_tokens: 40, stop: ['h'] });
  assert.equal(cut.choices[0]?.text, 'defg');
});

test('embeddings: one vector per input, embedding-sized', async () => {
  const r = await client.embeddings.create({ model: 'm', input: ['abc', 'xyz'] });
  assert.equal(r.data.length, 2);
  assert.equal(r.data[0]?.embedding.length, 64);
  assert.notDeepEqual(r.data[0]?.embedding, r.data[1]?.embedding);
});

// The grammar is the library's (createGrammarForJsonSchema); the reply must come back whole. It used to
// stop after "{" because the tiny chat template ended turns with a plain "\n" (see TINY_CHAT_TEMPLATE).
const WORD_SCHEMA = {
  type: 'object',
  properties: { word: { type: 'string', enum: ['apple', 'pear'] }, ripe: { type: 'boolean' } },
  required: ['word', 'ripe'],
  additionalProperties: false,
} as const;

function assertFollowsSchema(content: string | null | undefined): void {
  const parsed = JSON.parse(content ?? '') as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed).sort(), ['ripe', 'word'], content ?? '');
  assert.ok(['apple', 'pear'].includes(parsed['word'] as string), content ?? '');
  assert.equal(typeof parsed['ripe'], 'boolean', content ?? '');
}

test('response_format json_schema: the output parses and follows the schema', async () => {
  const r = await client.chat.completions.create({
    model: 'm',
    messages: [{ role: 'user', content: 'Give me a word' }],
    temperature: 0,
    max_tokens: 60,
    response_format: { type: 'json_schema', json_schema: { name: 'w', schema: WORD_SCHEMA } },
  });
  assertFollowsSchema(r.choices[0]?.message.content);
  assert.equal(r.choices[0]?.finish_reason, 'stop');
});

test('response_format json_schema, streaming: the chunks join to JSON that follows the schema', async () => {
  const stream = await client.chat.completions.create({
    model: 'm',
    messages: [{ role: 'user', content: 'Another word' }],
    temperature: 0.7,
    seed: 11,
    max_tokens: 60,
    stream: true,
    response_format: { type: 'json_schema', json_schema: { name: 'w', schema: WORD_SCHEMA } },
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  assertFollowsSchema(text);
});

test('bad requests get OpenAI-style 400s naming the parameter', async () => {
  await assert.rejects(client.chat.completions.create({ model: 'm', messages: [], temperature: 0 }), (err: unknown) => {
    assert.ok(err instanceof OpenAI.BadRequestError);
    assert.equal(err.status, 400);
    assert.equal((err.error as { param?: string }).param, 'messages');
    return true;
  });
  const res = await fetch(`${service.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"messages":[{"role":"user","content":"x"}],"temperature":7}',
  });
  assert.equal(res.status, 400);
  const body = (await res.json()) as { error: { message: string; type: string; param: string; code: string } };
  assert.equal(body.error.type, 'invalid_request_error');
  assert.equal(body.error.param, 'temperature');
  const broken = await fetch(`${service.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{not json',
  });
  assert.equal(broken.status, 400);
  assert.equal(((await broken.json()) as { error: { code: string } }).error.code, 'invalid_json');
  assert.equal((await fetch(`${service.url}/v1/nothing`)).status, 404);
});

test('/metrics counts requests and reports tokens/s and TTFT', async () => {
  const m = (await (await fetch(`${service.url}/metrics`)).json()) as {
    requests: { total: number };
    tokensPerSecond: { last: number };
    ttftMs: { last: number };
    queueDepth: number;
  };
  assert.ok(m.requests.total >= 5);
  const avg = m as unknown as { tokensPerSecond: { average: number }; ttftMs: { average: number } };
  assert.ok(avg.tokensPerSecond.average > 0);
  assert.ok(avg.ttftMs.average > 0);
  assert.equal(m.queueDepth, 0);
});
