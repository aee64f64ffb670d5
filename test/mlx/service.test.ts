import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { allocatePort } from '../../engine/core/port.js';
import { cliEntry, fixturesDir, tempDir } from '../helpers/paths.js';

// `orchard service mlx` in front of the mlx_lm.server stand-in (test/fixtures/mlx), driven by the
// official openai client: the contract every LLM app shares (DESIGN §6).
export const mlxPython = path.join(fixturesDir, 'mlx', 'mlx-python');

let child: ChildProcess;
let out = '';
let port: number;
let dir: string;
let requestsFile: string;
let client: OpenAI;
let cleanup: () => Promise<void>;
let exited: Promise<{ code: number | null; signal: string | null }>;

const REPLY = 'Hello, this is a test! If you have any questions or need help, feel free to ask!';

before(async () => {
  const t = await tempDir('orchard mlx service ');
  dir = t.dir;
  cleanup = t.cleanup;
  const model = path.join(dir, 'models', 'Llama-3.3-70B-Instruct-4bit');
  mkdirSync(model, { recursive: true });
  writeFileSync(path.join(model, 'config.json'), '{}');
  mkdirSync(path.join(dir, 'adapters'));
  requestsFile = path.join(dir, 'requests.jsonl');
  writeFileSync(requestsFile, '');
  port = await allocatePort();
  child = spawn(
    process.execPath,
    [
      cliEntry,
      'service',
      'mlx',
      '--python',
      mlxPython,
      '--model',
      model,
      '--port',
      String(port),
      '--adapters',
      path.join(dir, 'adapters'),
      '--max-tokens',
      '256',
    ],
    {
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: dir,
        ORCHARD_HOME: dir,
        NO_COLOR: '1',
        MLX_STANDIN_REQUESTS_FILE: requestsFile,
        MLX_STANDIN_LOAD_MS: '400',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 20_000 });
  // While the model loads, /health says so with 503 (readiness is not a bare "HTTP answers").
  const deadline = Date.now() + 20_000;
  let sawLoading = false;
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
    if (res) {
      const body = (await res.json()) as { status: string };
      if (res.status === 503 && body.status === 'loading') sawLoading = true;
      if (res.status === 200) break;
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`service did not become ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(sawLoading, 'health answered 503 "loading" before the model was loaded');
});

after(async () => {
  if (child.exitCode === null) child.kill('SIGTERM');
  const { code } = await exited;
  assert.equal(code, 0, `the service exits 0 on SIGTERM:\n${out}`);
  await cleanup();
});

const requests = (): { path: string; model: string; adapters: string | null; max_tokens: number; stream: boolean }[] =>
  readFileSync(requestsFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as never);

test('ready line, probe verdict and the real mlx_lm.server lines in the service output', () => {
  assert.match(out, /orchard mlx probe: backend=metal fallback=none mx\.default_device\(\) = Device\(gpu, 0\)/);
  assert.match(out, /orchard mlx ready: backend=metal model=Llama-3\.3-70B-Instruct-4bit/);
  assert.match(out, /UserWarning: mlx_lm\.server is not recommended for production/);
  assert.match(out, /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - INFO - Starting httpd at 127\.0\.0\.1 on port \d+\.\.\./);
});

test('/health: engine, backend and verdict, like any LLM service', async () => {
  const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as Record<string, unknown>;
  assert.equal(health['status'], 'ok');
  assert.equal(health['engine'], 'mlx');
  assert.equal(health['backend'], 'metal');
  assert.equal(health['model'], 'Llama-3.3-70B-Instruct-4bit');
  assert.equal((health['verdict'] as { fallback: string }).fallback, 'none');
});

test('chat through the openai client: non-streamed with usage, streamed token by token; tokens/s in /metrics', async () => {
  const chat = await client.chat.completions.create({
    model: 'Llama-3.3-70B-Instruct-4bit',
    messages: [{ role: 'user', content: 'Say this is a test!' }],
  });
  assert.equal(chat.choices[0]?.message.content, REPLY);
  assert.equal(chat.usage?.completion_tokens, 17);
  const stream = await client.chat.completions.create({
    model: 'Llama-3.3-70B-Instruct-4bit',
    messages: [{ role: 'user', content: 'again' }],
    stream: true,
    max_tokens: 5,
  });
  let text = '';
  let finish: string | null | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
  }
  assert.equal(text, 'Hello, this is a test!');
  assert.equal(finish, 'length');
  const completion = await client.completions.create({ model: 'Llama-3.3-70B-Instruct-4bit', prompt: 'Once', max_tokens: 3 });
  assert.equal(completion.choices[0]?.text, 'Hello, this is');
  // mlx_lm.server got its own names: "default_model", no adapter, our max_tokens.
  const seen = requests().filter((r) => r.max_tokens !== 1);
  assert.deepEqual(
    seen.map((r) => [r.path, r.model, r.adapters, r.stream]),
    [
      ['/v1/chat/completions', 'default_model', null, false],
      ['/v1/chat/completions', 'default_model', null, true],
      ['/v1/completions', 'default_model', null, false],
    ],
  );
  const metrics = (await (await fetch(`http://127.0.0.1:${port}/metrics`)).json()) as {
    engine: string;
    tokensPerSecond: { last: number };
    tokens: { completion: number };
  };
  assert.equal(metrics.engine, 'mlx');
  assert.equal(metrics.tokens.completion, 17 + 5 + 3);
  assert.ok(metrics.tokensPerSecond.last > 0, JSON.stringify(metrics));
});

test('an unknown model is refused here (never fetched from the hub); embeddings are not offered', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'mlx-community/other', messages: [{ role: 'user', content: 'x' }] }),
    (err: { status?: number }) => err.status === 404,
  );
  await assert.rejects(
    client.embeddings.create({ model: 'Llama-3.3-70B-Instruct-4bit', input: 'x' }),
    (err: { status?: number }) => err.status === 404,
  );
  assert.ok(!requests().some((r) => r.model === 'mlx-community/other'));
});

test("a trained adapter appears as a new model and is sent as the request's adapters field", async () => {
  const adapter = path.join(dir, 'adapters', 'my-notes');
  mkdirSync(adapter);
  writeFileSync(path.join(adapter, 'adapters.safetensors'), Buffer.alloc(16));
  const list = await client.models.list();
  assert.deepEqual(
    list.data.map((m) => m.id),
    ['Llama-3.3-70B-Instruct-4bit', 'Llama-3.3-70B-Instruct-4bit:my-notes'],
  );
  const chat = await client.chat.completions.create({
    model: 'Llama-3.3-70B-Instruct-4bit:my-notes',
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 2,
  });
  assert.equal(chat.choices[0]?.message.content, 'Hello, this');
  const last = requests().at(-1);
  assert.equal(last?.adapters, adapter);
  assert.equal(
    last?.model,
    path.join(dir, 'models', 'Llama-3.3-70B-Instruct-4bit'),
    'the real model path, so both 0.31.3 and later honour the adapter',
  );
});
