import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { REQUEST_SCHEMAS, type LlmRouteKey, type LlmRoutes } from '../../engine/services/llm/contract.js';
import { ROUTES } from '../../engine/services/llm/server.js';
import { tempDir } from '../helpers/paths.js';
import { writeTinyGguf } from '../helpers/tiny-gguf.js';
import { startService, type RunningService } from './service-helpers.js';

// The LLM service's contract (engine/services/llm/contract.ts) against its route table and the real service.
let service: RunningService;
let cleanup: () => Promise<void>;

before(async () => {
  const t = await tempDir();
  cleanup = t.cleanup;
  const model = path.join(t.dir, 'tiny.gguf');
  await writeTinyGguf(model, { mode: 'successor', f16: true, ctx: 512 });
  service = await startService(model, ['--parallel', '1']);
});

after(async () => {
  const code = await service?.stop();
  assert.equal(code, 0, `service should exit 0 on SIGTERM:\n${service?.output()}`);
  await cleanup?.();
});

test('the route table and the contract name the same routes', () => {
  const contract: Record<LlmRouteKey, true> = {
    'GET /health': true,
    'GET /metrics': true,
    'GET /v1/models': true,
    'GET /v1/models/:model': true,
    'POST /v1/chat/completions': true,
    'POST /v1/completions': true,
    'POST /v1/embeddings': true,
  } satisfies Record<keyof LlmRoutes, true>;
  assert.deepEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort(), Object.keys(contract).sort());
  for (const key of Object.keys(REQUEST_SCHEMAS)) assert.ok(key in contract && key.startsWith('POST '), key);
});

const post = (route: string, body: unknown) =>
  fetch(`${service.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

const tokens = async () => ((await (await fetch(`${service.url}/metrics`)).json()) as { tokens?: unknown }).tokens;

test('a body that breaks the contract is an OpenAI 400 whose param is the JSON pointer, before any generation', async () => {
  const before = JSON.stringify(await tokens());
  const user = { role: 'user', content: 'one two' };
  const cases: { route: string; body: unknown; param: string }[] = [
    { route: '/v1/chat/completions', body: { messages: [user], temperature: 'hot' }, param: '/temperature' },
    { route: '/v1/chat/completions', body: { messages: [{ role: 'user', content: 5 }] }, param: '/messages/0/content' },
    { route: '/v1/chat/completions', body: { messages: [user], max_tokens: 1.5 }, param: '/max_tokens' },
    { route: '/v1/chat/completions', body: { messages: [user], stream: 'yes' }, param: '/stream' },
    { route: '/v1/chat/completions', body: { model: 'm' }, param: '/messages' },
    { route: '/v1/completions', body: { prompt: 'one', stop: [1] }, param: '/stop/0' },
    { route: '/v1/completions', body: { prompt: { text: 'one' } }, param: '/prompt' },
    { route: '/v1/embeddings', body: { input: 5 }, param: '/input' },
    { route: '/v1/embeddings', body: [], param: '/' },
  ];
  for (const c of cases) {
    const res = await post(c.route, c.body);
    assert.equal(res.status, 400, JSON.stringify(c));
    const { error } = (await res.json()) as { error: { message: string; type: string; param: string; code: string } };
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.param, c.param, JSON.stringify(c));
    assert.equal(error.code, 'invalid_type');
    assert.match(error.message, /contract/);
  }
  assert.equal(JSON.stringify(await tokens()), before, 'no request reached generation');
});

test('fields OpenAI accepts and the service ignores pass the contract', async () => {
  const client = new OpenAI({ baseURL: `${service.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 20_000 });
  const done = await client.chat.completions.create({
    model: 'whatever',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'one two' }] }],
    max_tokens: 3,
    temperature: 0,
    n: 1,
    user: 'someone',
    logprobs: false,
    presence_penalty: 0,
    frequency_penalty: 0,
    stream_options: null,
    metadata: { why: 'test' },
  });
  assert.equal(done.object, 'chat.completion');
  const text = await client.completions.create({ model: 'whatever', prompt: 'one', max_tokens: 2, echo: false, best_of: 1, user: 'x' });
  assert.equal(text.object, 'text_completion');
});
