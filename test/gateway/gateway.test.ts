import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import type { GatewayInfo } from '../../engine/api/api-types.js';
import { tempDir } from '../helpers/paths.js';
import { writeTinyGguf } from '../helpers/tiny-gguf.js';
import { api } from '../api/helpers.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { installApp, llmService, startOrchard, type Running } from './helpers.js';

/**
 * The gateway end to end: two installed LLM apps on real node-llama-cpp (two generated GGUFs of
 * different sizes), the official `openai` and `ollama` clients pointed at it unchanged, and a memory
 * budget that holds one model but not both.
 */
let root: string;
let cleanup: () => Promise<void>;
let home: string;
let o: Running;
let openai: OpenAI;
let ollama: Ollama;
let budget: number;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard gateway '));
  home = path.join(root, 'Orchard Home');
  const small = path.join(root, 'models', 'tiny successor.gguf');
  const large = path.join(root, 'models', 'tiny-random-large.gguf');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(path.dirname(small), { recursive: true });
  await writeTinyGguf(small, { mode: 'successor', f16: true });
  await writeTinyGguf(large, { mode: 'random', seed: 7, embd: 128, layers: 4, ctx: 2048 });
  await installApp(root, home, 'tiny-chat-instruct', { kind: 'llm', model: small, service: llmService(256) });
  await installApp(root, home, 'tiny-big', { kind: 'llm', model: large, service: llmService(2048) });
  o = await startOrchard(home, { overrides: { keepAlive: '10m' }, usableMemoryBytes: 64 * 1024 ** 3 });
  openai = new OpenAI({ baseURL: `${o.base}/v1`, apiKey: 'unused', maxRetries: 0 });
  ollama = new Ollama({ host: o.base });
});
after(async () => {
  await o?.close();
  await cleanup();
});

const info = async (): Promise<GatewayInfo> => (await api<GatewayInfo>(o.t, 'GET', '/gateway')).value;
const state = (id: string): string => o.t.server.context.supervisor.status(id).state;
const runs = (id: string): number =>
  o.t.server.context.supervisor.logs(id).filter((l) => l.stream === 'system' && /^starting run \d+/.test(l.line)).length;

test('the openai client lists every installed model by id and alias; the first chat starts the model, streaming', async () => {
  const models = (await openai.models.list()).data.map((m) => m.id);
  assert.equal(new Set(models).size, models.length, `no duplicates: ${models.join(', ')}`);
  for (const id of ['tiny-chat-instruct', 'tiny-chat', 'tiny-big', 'tiny successor'])
    assert.ok(models.includes(id), `${id} in ${models.join(', ')}`);
  assert.equal(state('tiny-chat-instruct'), 'stopped');

  const stream = await openai.chat.completions.create({
    model: 'tiny-chat',
    messages: [{ role: 'user', content: 'Hello' }],
    stream: true,
    temperature: 0,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    usage = chunk.usage ?? usage;
  }
  // The chat template ends the prompt with "<|assistant|>": no letter before it, so the alphabet from a.
  assert.equal(text, 'abcdefghijklmnopqrstuvwxyz', 'the successor model recites the alphabet');
  assert.equal(usage?.completion_tokens, 26, 'twenty-six letters');
  assert.equal(state('tiny-chat-instruct'), 'ready', 'the request started the app');

  const plain = await openai.completions.create({ model: 'tiny-chat-instruct', prompt: 'abc', max_tokens: 5, temperature: 0 });
  assert.equal(plain.choices[0]?.text, 'defgh');
  assert.equal(plain.usage?.completion_tokens, 5);
  const embedded = await openai.embeddings.create({ model: 'tiny-chat-instruct', input: ['hello', 'world'] });
  assert.equal(embedded.data.length, 2);
  assert.equal(embedded.data[0]?.embedding.length, 64);

  const missing = await openai.chat.completions
    .create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })
    .catch((e: unknown) => e);
  assert.ok(missing instanceof OpenAI.NotFoundError, String(missing));
  assert.equal(missing.code, 'model_not_found');
  assert.equal(missing.param, 'model');
  assert.match(missing.message, /Known models: tiny-big, tiny-chat-instruct/);

  const gw = await info();
  const loaded = gw.models.find((m) => m.id === 'tiny-chat-instruct');
  assert.ok(loaded && loaded.state === 'ready' && loaded.requests === 3, JSON.stringify(gw));
  assert.ok(loaded.predictedBytes > 100 * 1024 ** 2, 'the fit prediction includes the service process');
  assert.equal(gw.openaiBaseUrl, `${o.base}/v1`);
  assert.ok(
    o.t.logs.some((l) => /gateway: POST \/v1\/chat\/completions status=200 .*model=tiny-chat-instruct/.test(l)),
    'routed requests are logged',
  );
  assert.ok(!o.t.logs.some((l) => l.includes('Hello')), 'never with their bodies');
});

test('the ollama client: tags, streamed chat with Ollama fields, generate, embed, show, ps, version', async () => {
  const tags = await ollama.list();
  assert.deepEqual(tags.models.map((m) => m.name).sort(), ['tiny-big:latest', 'tiny-chat-instruct:latest']);
  const tiny = tags.models.find((m) => m.name === 'tiny-chat-instruct:latest');
  assert.equal(tiny?.details.family, 'llama');
  assert.equal(tiny?.details.quantization_level, 'F16');

  const parts: string[] = [];
  let last: Awaited<ReturnType<typeof ollama.chat>> | undefined;
  for await (const part of await ollama.chat({
    model: 'tiny-chat-instruct',
    messages: [{ role: 'user', content: 'x' }],
    stream: true,
    options: { temperature: 0 },
  })) {
    if (part.done) last = part;
    else parts.push(part.message.content);
  }
  assert.equal(parts.join(''), 'abcdefghijklmnopqrstuvwxyz');
  assert.ok(parts.length >= 2, 'streamed as NDJSON lines');
  assert.equal(last?.done_reason, 'stop');
  assert.equal(last?.eval_count, 26);
  assert.ok((last?.prompt_eval_count ?? 0) > 0);
  assert.ok((last?.total_duration ?? 0) >= (last?.eval_duration ?? 0));
  assert.equal(last?.model, 'tiny-chat-instruct');

  const limited = await ollama.generate({
    model: 'tiny-chat-instruct:latest',
    prompt: 'abc',
    raw: true,
    stream: false,
    options: { num_predict: 4, temperature: 0 },
  });
  assert.equal(limited.response, 'defg');
  assert.equal(limited.done_reason, 'length');
  assert.equal(limited.eval_count, 4);

  const embedded = await ollama.embed({ model: 'tiny-chat-instruct', input: ['abc', 'xyz'] });
  assert.equal(embedded.embeddings.length, 2);
  const norm = Math.sqrt(embedded.embeddings[0]!.reduce((s, x) => s + x * x, 0));
  assert.ok(Math.abs(norm - 1) < 1e-6, `Ollama's embeddings are normalised (${norm})`);

  const shown = await ollama.show({ model: 'tiny-chat-instruct' });
  assert.equal(shown.details.family, 'llama');
  assert.equal((shown.model_info as unknown as Record<string, unknown>)['llama.block_count'], 2);
  assert.match(shown.template, /add_generation_prompt/);

  const running = await ollama.ps();
  assert.deepEqual(
    running.models.map((m) => m.name),
    ['tiny-chat-instruct:latest'],
  );
  assert.ok(Date.parse(String(running.models[0]?.expires_at)) > Date.now() + 9 * 60_000, 'keep-alive 10m from the settings');
  assert.match((await ollama.version()).version, /^\d+\.\d+\.\d+$/);

  const missing = (await ollama.chat({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }).then(
    () => undefined,
    (e: unknown) => e,
  )) as (Error & { status_code?: number }) | undefined;
  assert.equal(missing?.status_code, 404);
  assert.match(missing?.message ?? '', /does not exist/);
});

test('two concurrent first requests start the model once; keep_alive 0 unloads, a short keep-alive expires', async () => {
  assert.equal(state('tiny-big'), 'stopped');
  const ask = () =>
    openai.chat.completions.create({ model: 'tiny-big', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, temperature: 0 });
  const [a, b] = await Promise.all([ask(), ask()]);
  assert.equal(a.choices[0]?.message.content, b.choices[0]?.message.content, 'greedy: the same answer twice');
  assert.equal(runs('tiny-big'), 1, 'one launch for both');

  const unloaded = await ollama.generate({ model: 'tiny-big', prompt: '', keep_alive: 0 });
  assert.equal(unloaded.done_reason, 'unload');
  assert.equal(state('tiny-big'), 'stopped');

  const loaded = await ollama.generate({ model: 'tiny-big', prompt: '', keep_alive: '1s' });
  assert.equal(loaded.done_reason, 'load');
  assert.equal(state('tiny-big'), 'ready');
  const left = (await info()).models.find((m) => m.id === 'tiny-big');
  assert.ok(left?.expiresAt !== undefined && left.expiresAt - Date.now() <= 1000, JSON.stringify(left));
  const deadline = Date.now() + 8000;
  while (state('tiny-big') !== 'stopped' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.equal(state('tiny-big'), 'stopped', 'unloaded once its keep-alive passed');
  let listed = (await info()).models.map((m) => `${m.id}:${m.state}`);
  for (let i = 0; i < 20 && listed.some((m) => m.startsWith('tiny-big:')); i++) {
    assert.deepEqual(
      listed.filter((m) => m.startsWith('tiny-big:')),
      ['tiny-big:unloading'],
      'listed as unloading until its process is gone',
    );
    await new Promise((r) => setTimeout(r, 50));
    listed = (await info()).models.map((m) => `${m.id}:${m.state}`);
  }
  assert.ok(!listed.some((m) => m.startsWith('tiny-big:')), listed.join(', '));
});

test('a budget for one model: the second evicts the idle first; when the first is busy the second gets a 503', async () => {
  // The budget holds the larger model but not both (their fit predictions, as the gateway counts them).
  const costs = new Map((await o.gateway.models()).map((m) => [m.id, m.budgetBytes]));
  const bigBytes = costs.get('tiny-big') ?? 0;
  const smallBytes = costs.get('tiny-chat-instruct') ?? 0;
  assert.ok(bigBytes > smallBytes && smallBytes > 100 * 1024 ** 2, `the larger GGUF predicts more (${bigBytes} > ${smallBytes})`);
  await ollama.generate({ model: 'tiny-chat-instruct', prompt: '', keep_alive: '10m' });
  budget = bigBytes + 1024 * 1024;
  assert.ok(budget < bigBytes + smallBytes);
  o.t.server.context.settings = { ...o.t.server.context.settings, gateway: { memoryBudgetBytes: budget, keepAlive: '10m' } };

  // tiny-chat-instruct is loaded and idle: asking for tiny-big evicts it.
  const big = await openai.chat.completions.create({ model: 'tiny-big', messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });
  assert.ok(big.choices[0]);
  assert.equal(state('tiny-chat-instruct'), 'stopped', 'the idle model was evicted');
  assert.equal(state('tiny-big'), 'ready');
  assert.ok(o.t.logs.some((l) => /unloading tiny-chat-instruct: evicted .* to make room for tiny-big/.test(l)));

  // Keep tiny-big busy: long generations, one running and the rest queued behind it.
  const controllers = [0, 1, 2].map(() => new AbortController());
  const long = controllers.map((c) =>
    openai.chat.completions
      .create(
        { model: 'tiny-big', messages: [{ role: 'user', content: 'go' }], max_tokens: 1800, temperature: 0, stream: true },
        { signal: c.signal },
      )
      .then(async (s) => {
        for await (const chunk of s) void chunk;
      })
      .catch((e: unknown) => e),
  );
  let busy: GatewayInfo['models'][number] | undefined;
  const until = Date.now() + 5000;
  while (Date.now() < until) {
    busy = (await info()).models.find((m) => m.id === 'tiny-big');
    if (busy && busy.active === 1 && busy.queued === 2) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(busy?.queued, 2, `one running, two queued: ${JSON.stringify(busy)}`);
  assert.equal(busy?.keepAlive, 'busy');

  const refused = await openai.chat.completions
    .create({ model: 'tiny-chat-instruct', messages: [{ role: 'user', content: 'x' }] })
    .catch((e: unknown) => e);
  assert.ok(refused instanceof OpenAI.APIError && refused.status === 503, String(refused));
  assert.equal(refused.code, 'insufficient_memory');
  assert.match(refused.message, /not enough memory to load tiny-chat-instruct: .* held by tiny-big \(.*busy: 1 running, 2 queued\)/);
  assert.match(refused.message, /unload a model/);
  assert.equal(state('tiny-chat-instruct'), 'stopped');

  // Cancelling the clients cancels their generations: the model is idle again at once.
  const cancelledAt = Date.now();
  for (const c of controllers) c.abort();
  await Promise.all(long);
  let idle = false;
  while (!idle && Date.now() - cancelledAt < 3000) {
    const m = (await info()).models.find((x) => x.id === 'tiny-big');
    idle = m !== undefined && m.active === 0 && m.queued === 0;
    if (!idle) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(idle, 'the generations stopped when their clients left');
  // The service stops at its next token: it counts the cancelled generation.
  const port = o.t.server.context.supervisor.status('tiny-big').port;
  let metrics: { requests: { cancelled: number; total: number }; active: number } | undefined;
  for (let i = 0; i < 50 && !(metrics && metrics.requests.cancelled >= 1 && metrics.active === 0); i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 100));
    metrics = (await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.json())) as typeof metrics;
  }
  assert.ok(
    metrics && metrics.requests.cancelled >= 1 && metrics.active === 0,
    `the service saw the cancellation: ${JSON.stringify(metrics)}`,
  );
  assert.equal(metrics.requests.total, 2, 'the queued requests never reached the service');

  const now = await openai.chat.completions.create({
    model: 'tiny-chat-instruct',
    messages: [{ role: 'user', content: 'Hello' }],
    temperature: 0,
  });
  assert.equal(now.choices[0]?.message.content, 'abcdefghijklmnopqrstuvwxyz', 'once idle, tiny-big is evicted in turn');
  assert.equal(state('tiny-big'), 'stopped');
});

test('the API lists loaded models for the UI and `orchard ps`, and unloads one on request', async () => {
  let gw = await info();
  for (let i = 0; i < 50 && gw.models[0]?.measuredBytes === undefined; i++) {
    await new Promise((r) => setTimeout(r, 100));
    gw = await info();
  }
  assert.equal(gw.enabled, true);
  assert.equal(gw.budgetBytes, budget);
  const m = gw.models.find((x) => x.id === 'tiny-chat-instruct');
  assert.ok(m && m.startedBy === 'gateway' && m.keepAlive.endsWith('s'), JSON.stringify(m));
  assert.ok(
    m.measuredBytes !== undefined && m.measuredBytes > 50 * 1024 ** 2,
    `measured from the supervisor's samples: ${m.measuredBytes}`,
  );
  assert.ok(m.requests === 1 && m.tokensPerSecond !== undefined && m.tokensPerSecond > 0, JSON.stringify(m));

  const ps = await runCli(['ps', '--json'], { home });
  assert.equal(ps.code, 0, ps.stderr);
  const listed = parseJson<GatewayInfo & { ok: boolean }>(ps);
  assert.deepEqual(
    listed.models.map((x) => x.id),
    ['tiny-chat-instruct'],
  );
  const table = await runCli(['ps'], { home });
  assert.match(table.stdout, /MODEL\s+STATE\s+PREDICTED\s+MEASURED\s+UNLOADS IN\s+RUNNING\s+QUEUED\s+REQUESTS\s+TOKENS\/S/);
  assert.match(table.stdout, /tiny-chat-instruct\s+ready\s+\d+\.\d MiB\s+\d+\.\d MiB\s+\d+m \d+s\s+0\s+0\s+1\s+\d/);
  assert.match(table.stdout, new RegExp(`Gateway: ${o.base}/v1 \\(OpenAI\\), ${o.base} \\(Ollama\\)`));
  const unloaded = await api<{ unloaded: boolean; gateway: GatewayInfo }>(o.t, 'POST', '/gateway/models/tiny-chat-instruct/unload', {});
  assert.equal(unloaded.status, 200, unloaded.raw.body);
  assert.equal(unloaded.value.unloaded, true);
  assert.deepEqual(unloaded.value.gateway.models, []);
  assert.equal(state('tiny-chat-instruct'), 'stopped');
});
