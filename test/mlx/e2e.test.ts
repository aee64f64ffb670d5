import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import type { AppSummary, Job, LoraRunsResponse, ServerMessage, ServiceStatus } from '../../engine/api/api-types.js';
import { runCli } from '../helpers/cli.js';
import { api, openEvents, startTestServer, type EventStream, type TestServer } from '../api/helpers.js';
import { startRangeServer, type RangeServer } from '../helpers/range-server.js';
import { fixturesDir, tempDir } from '../helpers/paths.js';
import { attachGateway } from '../../engine/cli/attach-gateway.js';
import { tinyMlxModel } from '../helpers/tiny-mlx.js';

// Install → start → chat through the official openai client on Orchard's app route → stop, for an
// MLX app whose venv python is the mlx-lm stand-in (test/fixtures/mlx/mlx-python): the recipe is the
// bundled MLX recipes' shape with the pip and download steps replaced by writing that python and a model folder.
const ID = 'tiny-mlx-e2e';
let t: TestServer;
let events: EventStream;
let weights: RangeServer;
let cleanup: () => Promise<void>;
let recipeDir: string;
let model: ReturnType<typeof tinyMlxModel>;

before(async () => {
  const tmp = await tempDir('orchard mlx e2e ');
  cleanup = tmp.cleanup;
  model = tinyMlxModel({ layers: 2, hidden: 128, heads: 2, kvHeads: 1, intermediate: 256, vocab: 512, bits: 4, groupSize: 64, shards: 2 });
  weights = await startRangeServer(Object.fromEntries(Object.entries(model.files).map(([k, v]) => [`tiny/${k}`, v])));
  recipeDir = path.join(tmp.dir, 'my recipes', ID);
  await mkdir(recipeDir, { recursive: true });
  const shim = `#!/bin/sh\nexec "${process.execPath}" "${path.join(fixturesDir, 'mlx', 'mlx-python')}" "$@"\n`;
  await writeFile(
    path.join(recipeDir, 'recipe.json'),
    JSON.stringify({
      id: ID,
      name: 'Tiny MLX (stand-in)',
      version: '1.0.0',
      kind: 'llm',
      model: { family: 'tiny-mlx-e2e', engine: 'mlx', repo: weights.url('tiny').replace(/%2F/g, '/') },
      install: [
        { kind: 'write', id: 'python-env', title: 'The venv python (stand-in)', path: 'env/bin/python', content: shim, mode: '0755' },
        { kind: 'write', id: 'download-model', title: 'The model folder', path: 'app/model/config.json', json: model.config },
        { kind: 'verify', id: 'verify-backend', title: 'Prove MLX computes on the Metal GPU' },
      ],
      verify: { probe: { type: 'mlx' }, expect: [{ backend: 'metal' }] },
      service: {
        type: 'llm',
        engine: 'mlx',
        args: [
          '--python',
          '{{env.python}}',
          '--model',
          '{{app.dir}}/model',
          '--model-id',
          'Tiny-4bit',
          '--adapters',
          '{{app.root}}/adapters',
          '--max-tokens',
          '64',
        ],
        env: { MLX_STANDIN_LOAD_MS: '200' },
        readiness: { http: '/v1/models', timeout: 60 },
        stopGraceSeconds: 5,
      },
    }),
  );
  t = await startTestServer(path.join(tmp.dir, 'Orchard Home'), { metricsIntervalMs: 200 });
  events = await openEvents(t);
});

after(async () => {
  events.close();
  await t.server.close();
  await weights.close();
  await cleanup();
});

test('install: the fit gate reads the MLX headers first, the MLX probe proves Metal', async () => {
  // On this Linux machine the plan refuses MLX (Apple-only) and so does the fit: the user insists (force).
  const refused = await api<{ job: Job }>(t, 'POST', `/apps/${ID}/install`, { recipe: recipeDir });
  assert.equal(refused.status, 202);
  const failed = await events.waitFor(
    (m): m is Extract<ServerMessage, { type: 'job' }> => m.type === 'job' && m.job.id === refused.value.job.id && m.job.state !== 'running',
    30_000,
    'the refused install',
  );
  assert.equal(failed.job.state, 'failed');
  assert.match(JSON.stringify(failed.job.error), /Apple-only/);

  const res = await api<{ job: Job }>(t, 'POST', `/apps/${ID}/install`, { recipe: recipeDir, force: true });
  assert.equal(res.status, 202, res.raw.body);
  const done = await events.waitFor(
    (m): m is Extract<ServerMessage, { type: 'job' }> => m.type === 'job' && m.job.id === res.value.job.id && m.job.state !== 'running',
    60_000,
    'the install',
  );
  assert.equal(done.job.state, 'succeeded', JSON.stringify(done.job.error));
  const fitLine = events.messages.find((m) => m.type === 'log' && m.app === ID && m.line.startsWith('fit: '));
  assert.ok(fitLine && fitLine.type === 'log', 'the fit gate ran before the first step');
  assert.match(fitLine.line, /fit: does-not-fit/);
  assert.ok(
    weights.requests.some((r) => r.includes('model-00002-of-00002.safetensors') && r.includes('bytes=')),
    'shard headers read over Range',
  );
  const app = await api<AppSummary>(t, 'GET', `/apps/${ID}`);
  assert.equal(app.value.verdict?.backend, 'metal');
  assert.equal(app.value.verdict?.fallback, 'none');
  assert.ok(app.value.verdict?.evidence.includes('mx.default_device() = Device(gpu, 0)'));
});

test('start → chat through the openai client on /api/v1/apps/:id/service/v1 → tokens/s → stop', async () => {
  const started = await api<ServiceStatus>(t, 'POST', `/apps/${ID}/start?wait=ready`, {});
  assert.equal(started.status, 200, started.raw.body);
  assert.equal(started.value.state, 'ready');
  const app = await api<AppSummary>(t, 'GET', `/apps/${ID}`);
  assert.equal(app.value.serviceType, 'llm', 'an MLX app is an LLM app like any other');

  const client = new OpenAI({
    baseURL: `http://127.0.0.1:${t.port}/api/v1/apps/${ID}/service/v1`,
    apiKey: t.token,
    maxRetries: 0,
    timeout: 20_000,
  });
  const models = await client.models.list();
  assert.deepEqual(
    models.data.map((m) => m.id),
    ['Tiny-4bit'],
  );
  const stream = await client.chat.completions.create({
    model: 'Tiny-4bit',
    messages: [{ role: 'user', content: 'Say this is a test!' }],
    stream: true,
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  assert.equal(text, 'Hello, this is a test! If you have any questions or need help, feel free to ask!');

  const health = await api<{ engine: string; backend: string; upstream: { pid: number } }>(t, 'GET', `/apps/${ID}/service/health`);
  assert.equal(health.value.engine, 'mlx');
  assert.equal(health.value.backend, 'metal');
  const upstreamPid = health.value.upstream.pid;
  await events.waitFor(
    (m) => m.type === 'log' && m.app === ID && /Starting httpd at 127\.0\.0\.1/.test(m.line),
    5000,
    'the mlx_lm.server line in the app log',
  );
  const sample = await events.waitFor(
    (m) =>
      m.type === 'metrics' && m.app === ID && typeof (m as { sample?: { tokensPerSecond?: number } }).sample?.tokensPerSecond === 'number',
    10_000,
    'tokens/s in a metrics sample',
  );
  assert.ok(sample);

  // LoRA: `orchard lora` on a JSONL folder; its progress comes over the API; the adapter is a new model of the running service.
  const appModel = path.join(t.server.context.home.apps, ID, 'app', 'model');
  for (const [name, body] of Object.entries(model.files)) await writeFile(path.join(appModel, name), body);
  const data = path.join(path.dirname(recipeDir), 'my data');
  await mkdir(data, { recursive: true });
  await writeFile(path.join(data, 'train.jsonl'), '{"text": "Orchard runs local models."}\n'.repeat(4));
  await writeFile(path.join(data, 'valid.jsonl'), '{"text": "Orchard runs local models."}\n');
  const lora = await runCli(['lora', ID, '--data', data, '--name', 'notes', '--iters', '50', '--save-every', '10'], {
    home: t.server.context.home.root,
    env: { MLX_STANDIN_LORA_LINE_MS: '0' },
  });
  assert.equal(lora.code, 0, lora.stderr + lora.stdout);
  assert.match(
    lora.stdout,
    new RegExp(
      [
        /Iter 50: Train loss 1\.585, Learning Rate 1\.000e-05, It\/sec 23\.600, /.source,
        /Tokens\/sec 7889\.451, Trained Tokens 16150, Peak mem 10\.588 GB/.source,
      ].join(''),
    ),
  );
  assert.match(lora.stdout, /adapter ready: .*notes/);
  const runs = await api<LoraRunsResponse>(t, 'GET', `/apps/${ID}/lora`);
  assert.equal(runs.status, 200, runs.raw.body);
  assert.deepEqual(
    runs.value.runs.map((r) => [r.name, r.state, r.savedIteration]),
    [['notes', 'done', 50]],
  );
  assert.deepEqual(
    runs.value.runs[0]?.points.map((p) => p.iteration),
    [1, 10, 20, 30, 40, 50],
  );
  const withAdapter = await client.models.list();
  assert.deepEqual(
    withAdapter.data.map((m) => m.id),
    ['Tiny-4bit', 'Tiny-4bit:notes'],
  );
  const tuned = await client.chat.completions.create({
    model: 'Tiny-4bit:notes',
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 3,
  });
  assert.equal(tuned.choices[0]?.message.content, 'Hello, this is');

  const stopped = await api<ServiceStatus>(t, 'POST', `/apps/${ID}/stop`, {});
  assert.equal(stopped.value.state, 'stopped');
  // The service runs confined (its own pid namespace): the pid it reports is the sandbox's, so the
  // host is searched by command line for anything of this app still running.
  assert.ok(upstreamPid > 0);
  const appRoot = path.join(t.server.context.home.apps, ID);
  const leftovers = (await readdir('/proc')).filter((name) => {
    if (!/^\d+$/.test(name)) return false;
    try {
      return (
        readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(appRoot) && !readFileSync(`/proc/${name}/stat`, 'utf8').includes(') Z ')
      );
    } catch {
      return false;
    }
  });
  assert.deepEqual(leftovers, [], 'mlx_lm.server (the stand-in) and the service are gone too');
});

test('the gateway serves the MLX app by its app id: loaded on the first request, OpenAI API, unloaded on request', async () => {
  const gateway = await attachGateway(t.server, { port: 0, log: (l) => t.logs.push(l) });
  assert.ok(gateway, `the gateway started: ${t.logs.slice(-5).join('\n')}`);
  try {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 60_000 });
    const listed = (await client.models.list()).data.map((m) => m.id);
    assert.ok(listed.includes(ID), `the MLX app is listed: ${listed.join(', ')}`);
    assert.equal((await api<AppSummary>(t, 'GET', `/apps/${ID}`)).value.service.state, 'stopped', 'not running before the first request');
    const reply = await client.chat.completions.create({ model: ID, messages: [{ role: 'user', content: 'Say this is a test!' }] });
    assert.equal(reply.choices[0]?.message.content, 'Hello, this is a test! If you have any questions or need help, feel free to ask!');
    const known = await gateway.models();
    assert.ok(
      known.some((m) => m.id === ID && m.budgetBytes > 0 && m.upstreamModel === 'Tiny-4bit'),
      'it counts against the memory budget by its MLX fit',
    );
  } finally {
    await gateway.close();
    await api<ServiceStatus>(t, 'POST', `/apps/${ID}/stop`, {});
  }
});
