import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type {
  AppSummary,
  CatalogResponse,
  Job,
  ServerMessage,
  ServiceStatus,
  Settings,
  ValidateResponse,
} from '../../engine/api/api-types.js';
import { tempDir } from '../helpers/paths.js';
import { repoRoot } from '../helpers/paths.js';
import { api, openEvents, rawRequest, startTestServer, type EventStream, type TestServer } from './helpers.js';

let t: TestServer;
let events: EventStream;
let cleanup: () => Promise<void>;
let recipeDir: string;

before(async () => {
  const { dir, cleanup: c } = await tempDir('orchard api jobs ');
  cleanup = c;
  recipeDir = path.join(dir, 'my recipes', 'api-app');
  await cp(path.join(repoRoot, 'test', 'api', 'fixtures', 'api-app'), recipeDir, { recursive: true });
  t = await startTestServer(path.join(dir, 'Orchard Home'), { metricsIntervalMs: 200 });
  events = await openEvents(t);
});
after(async () => {
  events.close();
  await t.server.close();
  await cleanup();
});

const jobDone =
  (id: string) =>
  (m: ServerMessage): m is Extract<ServerMessage, { type: 'job' }> =>
    m.type === 'job' && m.job.id === id && m.job.state !== 'running';

test('install runs as a job: 202 at once, step events over the WebSocket, one job per app at a time', async () => {
  const res = await api<{ job: Job }>(t, 'POST', '/apps/api-app/install', { recipe: recipeDir });
  assert.equal(res.status, 202, res.raw.body);
  const job = res.value.job;
  assert.equal(job.operation, 'install');
  assert.deepEqual(
    job.steps.map((s) => [s.key, s.status]),
    [
      ['install:config', 'pending'],
      ['install:say', 'pending'],
      ['install:done', 'pending'],
    ],
  );

  const second = await api<{ error: { code: string } }>(t, 'POST', '/apps/api-app/install', { recipe: recipeDir });
  assert.equal(second.status, 409, 'a second job for the same app is refused while the first runs');
  assert.equal(second.value.error.code, 'LOCKED');

  const finished = await events.waitFor(jobDone(job.id), 60_000, 'the install job to finish');
  assert.equal(finished.job.state, 'succeeded', JSON.stringify(finished.job.error));
  const steps = events.messages.filter((m): m is Extract<ServerMessage, { type: 'step' }> => m.type === 'step' && m.job === job.id);
  assert.deepEqual(
    steps.map((s) => `${s.step}:${s.status}`),
    [
      'install:config:running',
      'install:config:done',
      'install:say:running',
      'install:say:done',
      'install:done:running',
      'install:done:done',
    ],
  );
  const logLine = events.messages.find((m) => m.type === 'log' && m.job === job.id && m.line.includes('step output from api-app'));
  assert.ok(logLine, 'the run step output came over the WebSocket with its job id');

  const polled = await api<Job>(t, 'GET', `/jobs/${job.id}`);
  assert.equal(polled.value.state, 'succeeded');
  assert.ok(polled.value.steps.every((s) => s.status === 'done'));
  const app = await api<AppSummary>(t, 'GET', '/apps/api-app');
  assert.equal(app.value.lifecycle, 'installed');
  assert.equal(app.value.hasService, true);
  assert.equal(app.value.service.state, 'stopped');
  assert.equal((await api<{ apps: AppSummary[] }>(t, 'GET', '/apps')).value.apps.length, 1);
  assert.equal((await api(t, 'GET', '/jobs/nope')).status, 404);
});

test('start and stop a command service through the API; proxy passes SSE and keeps the token', async () => {
  const started = await api<ServiceStatus>(t, 'POST', '/apps/api-app/start?wait=ready', {});
  assert.equal(started.status, 200, started.raw.body);
  assert.equal(started.value.state, 'ready');
  assert.ok(started.value.port && started.value.pid);
  // The recipe has "ui": "/", so the status carries the URL "Open" links to (apps without one get none).
  assert.equal(started.value.url, `http://127.0.0.1:${started.value.port}/`);
  assert.equal((await api<AppSummary>(t, 'GET', '/apps/api-app')).value.serviceType, 'command');
  await events.waitFor((m) => m.type === 'status' && m.app === 'api-app' && m.status.state === 'ready', 5000, 'a ready status message');
  await events.waitFor(
    (m) => m.type === 'log' && m.app === 'api-app' && m.line.includes('api-app listening'),
    5000,
    'the service log line',
  );

  const logs = await api<{ lines: string[] }>(t, 'GET', '/apps/api-app/logs?tail=50');
  assert.ok(
    logs.value.lines.some((l) => l.includes('api-app listening')),
    logs.raw.body,
  );

  const health = await api<{ status: string }>(t, 'GET', '/apps/api-app/service/health');
  assert.equal(health.status, 200);
  assert.equal(health.value.status, 'ok');
  assert.equal(health.raw.headers['access-control-allow-origin'], undefined, "the service's CORS header is dropped");
  const headers = await rawRequest(t.port, 'GET', '/api/v1/apps/api-app/service/headers', {
    host: `127.0.0.1:${t.port}`,
    authorization: `Bearer ${t.token}`,
  });
  assert.ok(!headers.body.includes(t.token), 'the Orchard token never reaches the service');
  assert.equal((JSON.parse(headers.body) as Record<string, string>)['host'], `127.0.0.1:${started.value.port}`);
  const sse = await rawRequest(t.port, 'GET', '/api/v1/apps/api-app/service/stream', {
    host: `127.0.0.1:${t.port}`,
    authorization: `Bearer ${t.token}`,
  });
  assert.match(String(sse.headers['content-type']), /text\/event-stream/);
  assert.deepEqual(sse.body.split('\n\n').filter(Boolean), ['data: {"i":0}', 'data: {"i":1}', 'data: {"i":2}', 'data: [DONE]']);

  await events.waitFor((m) => m.type === 'metrics' && m.app === 'api-app', 5000, 'a metrics sample');
  const metrics = await api<{ samples: { rssBytes: number }[] }>(t, 'GET', '/apps/api-app/metrics');
  assert.ok(metrics.value.samples.length > 0 && metrics.value.samples[0]!.rssBytes > 0);

  // Live diagnosis: the service prints a real llama.cpp log (1 of 35 layers on CUDA); the verdict
  // changes over the WebSocket and in the app's status.
  const captured = await readFile(path.join(repoRoot, 'test', 'fixtures', 'logs', 'llm-llama-cpp-cuda-1of35.log'), 'utf8');
  const replay = await rawRequest(
    t.port,
    'POST',
    '/api/v1/apps/api-app/service/replay',
    { host: `127.0.0.1:${t.port}`, authorization: `Bearer ${t.token}`, 'content-type': 'text/plain' },
    captured,
  );
  assert.equal(replay.status, 204);
  const verdict = await events.waitFor(
    (m) => m.type === 'verdict' && m.app === 'api-app' && m.verdict.offload !== undefined,
    10_000,
    'a live verdict',
  );
  assert.ok(verdict.type === 'verdict');
  assert.equal(verdict.verdict.backend, 'cuda');
  assert.equal(verdict.verdict.fallback, 'partial');
  assert.deepEqual(verdict.verdict.offload, { layers: 1, total: 35 });
  const posted = await api<{ backend: string; offload?: { layers: number; total: number } }>(t, 'POST', '/diagnose', {
    log: captured,
    expect: 'cuda',
  });
  assert.equal(posted.status, 200, posted.raw.body);
  assert.deepEqual([posted.value.backend, posted.value.offload], ['cuda', { layers: 1, total: 35 }]);
  assert.equal((await api(t, 'POST', '/diagnose', { log: captured, expect: 'gpu' })).status, 400);
  const withVerdict = await api<AppSummary>(t, 'GET', '/apps/api-app');
  assert.deepEqual(withVerdict.value.verdict, verdict.verdict);

  const again = await api<ServiceStatus>(t, 'POST', '/apps/api-app/start', {});
  assert.equal(again.value.state, 'ready', 'starting a running app answers its status');

  const stopped = await api<ServiceStatus>(t, 'POST', '/apps/api-app/stop', {});
  assert.equal(stopped.value.state, 'stopped');
  assert.throws(() => process.kill(started.value.pid!, 0), 'the service process is gone');
  const proxied = await api<{ error: { code: string } }>(t, 'GET', '/apps/api-app/service/health');
  assert.equal(proxied.status, 409);
  assert.equal(proxied.value.error.code, 'SERVICE');
});

test('recipes: validate locates errors by line; save writes the user recipe and the catalog lists it', async () => {
  const broken = await api<ValidateResponse>(t, 'POST', '/recipes/validate', { text: '{\n  "id": "x"\n  "name": "y"\n}' });
  assert.equal(broken.value.ok, false);
  assert.equal(broken.value.errors[0]?.line, 3);

  const text = (await readFile(path.join(recipeDir, 'recipe.json'), 'utf8'))
    .replace('"id": "api-app"', '"id": "my-app"')
    .replace('"stopGraceSeconds": 3', '"stopGraceSeconds": 3,\n    "colour": "red"');
  const invalid = await api<ValidateResponse>(t, 'POST', '/recipes/validate', { text });
  assert.equal(invalid.value.ok, false);
  const unknown = invalid.value.errors.find((e) => e.pointer.includes('colour'));
  assert.ok(unknown, JSON.stringify(invalid.value.errors));
  assert.equal(unknown.line, text.split('\n').findIndex((l) => l.includes('"colour"')) + 1);
  const refused = await api<{ error: { code: string } }>(t, 'POST', '/recipes', { text });
  assert.equal(refused.status, 400);
  assert.equal(refused.value.error.code, 'RECIPE_INVALID');

  const valid = text.replace(',\n    "colour": "red"', '');
  assert.deepEqual((await api<ValidateResponse>(t, 'POST', '/recipes/validate', { text: valid })).value, { ok: true, errors: [] });
  const saved = await api<{ id: string; file: string }>(t, 'POST', '/recipes', { text: valid });
  assert.equal(saved.status, 200, saved.raw.body);
  assert.equal(saved.value.file, path.join(t.server.context.home.userRecipes, 'my-app', 'recipe.json'));
  assert.equal(await readFile(saved.value.file, 'utf8'), valid.endsWith('\n') ? valid : `${valid}\n`);
  const loaded = await api<{ id: string; file: string; text: string }>(t, 'GET', '/recipes/my-app');
  assert.equal(loaded.status, 200, loaded.raw.body);
  assert.deepEqual(loaded.value, { id: 'my-app', file: saved.value.file, text: await readFile(saved.value.file, 'utf8') });
  assert.equal((await api(t, 'GET', '/recipes/nope-nothing')).status, 404);
  const catalog = await api<CatalogResponse>(t, 'GET', '/catalog');
  const mine = catalog.value.recipes.find((r) => r.id === 'my-app');
  assert.ok(mine, catalog.raw.body);
  assert.equal(mine.source, 'user');
  assert.ok(['fits', 'does-not-fit', 'unknown', 'fits-after-raising-limit'].includes(mine.fit.verdict));
  assert.ok(mine.fit.reasons.length > 0 || mine.fit.verdict === 'fits');

  const plan = await api<{ recipe: { id: string } }>(t, 'POST', '/plan', { recipe: 'my-app' });
  assert.equal(plan.status, 200, plan.raw.body);
  assert.equal(plan.value.recipe.id, 'my-app');
  const missing = await api<{ error: { code: string } }>(t, 'POST', '/plan', { recipe: 'no-such-recipe' });
  assert.equal(missing.status, 404);
  assert.equal(missing.value.error.code, 'RECIPE_NOT_FOUND');
  assert.equal((await api(t, 'POST', '/plan', {})).status, 400);

  // Unsaved editor text plans in memory, as if saved under ORCHARD_HOME/recipes/<id>/; nothing is written.
  const draft = valid.replace('"id": "my-app"', '"id": "draft-app"');
  const drafted = await api<{ recipe: { id: string; dir: string; file: string }; service?: { command?: string[] } }>(t, 'POST', '/plan', {
    text: draft,
    profile: 'linux-x64-cpu',
  });
  assert.equal(drafted.status, 200, drafted.raw.body);
  const draftDir = path.join(t.server.context.home.userRecipes, 'draft-app');
  assert.deepEqual(drafted.value.recipe, {
    ...drafted.value.recipe,
    id: 'draft-app',
    dir: draftDir,
    file: path.join(draftDir, 'recipe.json'),
  });
  assert.ok(
    drafted.value.service?.command?.includes(path.join(draftDir, 'server.mjs')),
    `{{recipe.dir}} is the folder Save would write: ${JSON.stringify(drafted.value.service)}`,
  );
  assert.equal(existsSync(draftDir), false, 'planning unsaved text wrote a file');
  const badDraft = await api<{ error: { code: string; where?: string } }>(t, 'POST', '/plan', {
    text: text.replace('"id": "my-app"', '"id": "draft-app"'),
  });
  assert.equal(badDraft.status, 400, badDraft.raw.body);
  assert.equal(badDraft.value.error.code, 'RECIPE_INVALID');
  assert.match(badDraft.value.error.where ?? '', /colour.*line \d+/);
  assert.equal((await api(t, 'POST', '/plan', { text: draft, recipe: 'my-app' })).status, 400, 'recipe and text together are ambiguous');
});

test('settings keep the Hugging Face token in orchard.json (0600) and never answer it back', async () => {
  const secret = 'hf_thisIsATestTokenValue123';
  const put = await api<Settings>(t, 'PUT', '/settings', { hfToken: secret, concurrency: 3 });
  assert.equal(put.status, 200, put.raw.body);
  assert.deepEqual(put.value, { home: t.server.context.home.root, hfTokenSet: true, concurrency: 3 });
  assert.ok(!put.raw.body.includes(secret));
  const got = await api<Settings>(t, 'GET', '/settings');
  assert.ok(!got.raw.body.includes(secret));
  const file = t.server.context.home.settingsFile;
  const stored = JSON.parse(await readFile(file, 'utf8')) as { hfToken: string; token: string };
  assert.equal(stored.hfToken, secret);
  assert.equal(stored.token, t.token, 'the API token survives a settings change');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await api(t, 'PUT', '/settings', { concurrency: 0 })).status, 400);
  assert.equal((await api(t, 'PUT', '/settings', { home: '/elsewhere' })).status, 400);
  const cleared = await api<Settings>(t, 'PUT', '/settings', { hfToken: null });
  assert.equal(cleared.value.hfTokenSet, false);
});

test('uninstall runs as a job and removes the app', async () => {
  const res = await api<{ job: Job }>(t, 'POST', '/apps/api-app/uninstall', {});
  assert.equal(res.status, 202, res.raw.body);
  const done = await events.waitFor(jobDone(res.value.job.id), 30_000, 'the uninstall job');
  assert.equal(done.job.state, 'succeeded', JSON.stringify(done.job.error));
  assert.ok(!existsSync(path.join(t.server.context.home.apps, 'api-app')));
  const gone = await api<{ error: { code: string } }>(t, 'GET', '/apps/api-app');
  assert.equal(gone.status, 404);
  assert.equal(gone.value.error.code, 'NOT_INSTALLED');
  for (const m of events.messages) assert.ok(!JSON.stringify(m).includes(t.token), 'no event carries the token');
});
