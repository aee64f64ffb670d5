import assert from 'node:assert/strict';
import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { AppSummary, Job, ServerMessage, ServiceStatus } from '../../engine/api/api-types.js';
import { api, openEvents, rawRequest, startTestServer, type EventStream, type TestServer } from '../api/helpers.js';
import { fixturesDir, repoRoot, tempDir } from '../helpers/paths.js';

// A running service whose log changes from GPU to CPU fallback: the live diagnoser (the same rules
// as `orchard diagnose`) must change the app's verdict in the API and on the events WebSocket (what
// the UI renders) within a second. The service prints real captured logs through its /replay route.
let t: TestServer;
let events: EventStream;
let cleanup: () => Promise<void>;
let recipeDir: string;

before(async () => {
  const { dir, cleanup: c } = await tempDir('orchard live verdict ');
  cleanup = c;
  recipeDir = path.join(dir, 'recipes', 'api-app');
  await cp(path.join(repoRoot, 'test', 'api', 'fixtures', 'api-app'), recipeDir, { recursive: true });
  t = await startTestServer(path.join(dir, 'home'));
  events = await openEvents(t);
});
after(async () => {
  events.close();
  await t.server.close();
  await cleanup();
});

const log = (name: string) => readFile(path.join(fixturesDir, 'logs', name), 'utf8');
const isVerdict = (m: ServerMessage): m is Extract<ServerMessage, { type: 'verdict' }> => m.type === 'verdict' && m.app === 'api-app';

async function replay(text: string): Promise<void> {
  const res = await rawRequest(
    t.port,
    'POST',
    '/api/v1/apps/api-app/service/replay',
    { host: `127.0.0.1:${t.port}`, authorization: `Bearer ${t.token}`, 'content-type': 'text/plain' },
    text,
  );
  assert.equal(res.status, 204);
}

test('a service whose log goes from GPU to CPU fallback changes its verdict in the API and over the WebSocket within 1 s', async () => {
  const install = await api<{ job: Job }>(t, 'POST', '/apps/api-app/install', { recipe: recipeDir });
  assert.equal(install.status, 202, install.raw.body);
  await events.waitFor((m) => m.type === 'job' && m.job.id === install.value.job.id && m.job.state !== 'running', 60_000, 'the install');
  const started = await api<ServiceStatus>(t, 'POST', '/apps/api-app/start?wait=ready', {});
  assert.equal(started.value.state, 'ready', started.raw.body);

  // 1. A model loads fully on CUDA (ollama/ollama#2266: 33/33 layers, CUDA0 and CUDA1 buffers).
  await replay(await log('ollama-2266-cuda-33of33-three-gpus.log'));
  const gpu = await events.waitFor(
    (m): m is Extract<ServerMessage, { type: 'verdict' }> => isVerdict(m) && m.verdict.backend === 'cuda',
    10_000,
    'a cuda verdict',
  );
  assert.deepEqual([gpu.verdict.fallback, gpu.verdict.offload], ['none', { layers: 33, total: 33 }]);

  // 2. The next load lands on the CPU (ggml-org/llama.cpp#6787: a CUDA device found, 0/33 layers offloaded).
  const seen = events.messages.length;
  const t0 = Date.now();
  await replay(await log('llamacpp-cuda-0of33-h800.log'));
  const fallback = await events.waitFor(
    (m): m is Extract<ServerMessage, { type: 'verdict' }> =>
      isVerdict(m) && m.verdict.fallback === 'full' && events.messages.indexOf(m) >= seen,
    1000,
    'the fallback verdict on the WebSocket within 1 s',
  );
  const wsMs = Date.now() - t0;
  assert.deepEqual([fallback.verdict.backend, fallback.verdict.offload], ['cpu', { layers: 0, total: 33 }]);
  assert.ok(fallback.verdict.evidence.includes('llm_load_tensors: offloaded 0/33 layers to GPU'), fallback.verdict.evidence.join('\n'));
  const app = await api<AppSummary>(t, 'GET', '/apps/api-app');
  const apiMs = Date.now() - t0;
  assert.deepEqual([app.value.verdict?.backend, app.value.verdict?.fallback], ['cpu', 'full']);
  assert.ok(apiMs < 1000, `the API showed the fallback after ${apiMs} ms`);
  console.log(`live verdict: GPU → CPU fallback on the WebSocket after ${wsMs} ms, in GET /apps after ${apiMs} ms`);

  await api(t, 'POST', '/apps/api-app/stop', {});
});
