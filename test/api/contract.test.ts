import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { ApiError } from '../../engine/api/api-types.js';
import { REQUEST_SCHEMAS, type ApiRoutes, type RouteKey, type RouteResponse } from '../../engine/api/contract.js';
import { contractKey } from '../../engine/api/request-validation.js';
import type { appDetail, getJob, listApps, loraRuns } from '../../engine/api/routes/apps.js';
import type { catalog } from '../../engine/api/routes/catalog.js';
import type { clusterOverview } from '../../engine/api/routes/cluster.js';
import type { gatewayInfo, unloadModel } from '../../engine/api/routes/gateway.js';
import type { mintLink } from '../../engine/api/session-route.js';
import type { readRecipeText, save, validate } from '../../engine/api/routes/recipes.js';
import { routes } from '../../engine/api/routes/index.js';
import type { serviceLogs, serviceMetrics, stopService } from '../../engine/api/routes/services.js';
import type { getSettings, putSettings } from '../../engine/api/routes/settings.js';
import type { diagnose, doctor, fit, plan } from '../../engine/api/routes/tools.js';
import { tempDir } from '../helpers/paths.js';
import { api, startTestServer, type TestServer } from './helpers.js';

// Compile-time: what each handler returns is what the contract says the route answers. A handler
// whose return type drifts from contract.ts fails the build, not just this test.
type Answers<F extends (...args: never[]) => unknown, K extends RouteKey> = [Awaited<ReturnType<F>>] extends [RouteResponse<K>]
  ? true
  : false;
const handlersMatchContract: [
  Answers<typeof catalog, 'GET /catalog'>,
  Answers<typeof listApps, 'GET /apps'>,
  Answers<typeof appDetail, 'GET /apps/:id'>,
  Answers<typeof getJob, 'GET /jobs/:id'>,
  Answers<typeof plan, 'POST /plan'>,
  Answers<typeof stopService, 'POST /apps/:id/stop'>,
  Answers<typeof serviceLogs, 'GET /apps/:id/logs'>,
  Answers<typeof serviceMetrics, 'GET /apps/:id/metrics'>,
  Answers<typeof loraRuns, 'GET /apps/:id/lora'>,
  Answers<typeof doctor, 'GET /doctor'>,
  Answers<typeof clusterOverview, 'GET /cluster'>,
  Answers<typeof gatewayInfo, 'GET /gateway'>,
  Answers<typeof unloadModel, 'POST /gateway/models/:id/unload'>,
  Answers<typeof mintLink, 'POST /session/link'>,
  Answers<typeof fit, 'POST /fit'>,
  Answers<typeof diagnose, 'POST /diagnose'>,
  Answers<typeof validate, 'POST /recipes/validate'>,
  Answers<typeof readRecipeText, 'GET /recipes/:id'>,
  Answers<typeof save, 'POST /recipes'>,
  Answers<typeof getSettings, 'GET /settings'>,
  Answers<typeof putSettings, 'PUT /settings'>,
] = [true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true, true];

let t: TestServer;
let cleanup: () => Promise<void>;
before(async () => {
  const tmp = await tempDir('orchard api contract ');
  cleanup = tmp.cleanup;
  t = await startTestServer(path.join(tmp.dir, 'home'));
});
after(async () => {
  await t.server.close();
  await cleanup();
});

test('the route table and the contract name the same routes', () => {
  assert.ok(handlersMatchContract.every(Boolean));
  const table = routes.filter((r) => r.method !== 'ALL').map((r) => contractKey(r.method, r.path));
  const contract: Record<RouteKey, true> = {
    'GET /catalog': true,
    'GET /apps': true,
    'GET /apps/:id': true,
    'POST /plan': true,
    'POST /apps/:id/install': true,
    'POST /apps/:id/update': true,
    'POST /apps/:id/uninstall': true,
    'GET /jobs': true,
    'GET /jobs/:id': true,
    'POST /apps/:id/start': true,
    'POST /apps/:id/stop': true,
    'GET /apps/:id/logs': true,
    'GET /apps/:id/metrics': true,
    'GET /apps/:id/lora': true,
    'GET /doctor': true,
    'GET /cluster': true,
    'GET /gateway': true,
    'POST /gateway/models/:id/unload': true,
    'POST /session/link': true,
    'POST /fit': true,
    'POST /diagnose': true,
    'POST /recipes/validate': true,
    'GET /recipes/:id': true,
    'POST /recipes': true,
    'GET /settings': true,
    'PUT /settings': true,
  } satisfies Record<keyof ApiRoutes, true>;
  assert.deepEqual([...table].sort(), Object.keys(contract).sort());
  // Every schema belongs to a route that takes a body.
  for (const key of Object.keys(REQUEST_SCHEMAS)) assert.match(key, /^(POST|PUT) /, key);
});

test('a body that breaks the contract is a 400 naming the JSON pointer, before the handler runs', async () => {
  const cases: { method: string; path: string; body: unknown; where: string }[] = [
    { method: 'POST', path: '/apps/no-such-app/install', body: { inputs: { size: { big: true } } }, where: '/inputs/size' },
    { method: 'POST', path: '/apps/no-such-app/install', body: { allowCPU: true }, where: '/allowCPU' },
    { method: 'POST', path: '/apps/no-such-app/uninstall', body: { purgeModels: 'yes' }, where: '/purgeModels' },
    { method: 'POST', path: '/diagnose', body: {}, where: '/log' },
    { method: 'POST', path: '/recipes/validate', body: { text: 42 }, where: '/text' },
    { method: 'PUT', path: '/settings', body: { concurrency: 0 }, where: '/concurrency' },
    { method: 'PUT', path: '/settings', body: { hfToken: 'hf_a b' }, where: '/hfToken' },
    { method: 'POST', path: '/fit', body: { model: 'm.gguf', context: 1.5 }, where: '/context' },
  ];
  for (const c of cases) {
    const res = await api<ApiError>(t, c.method, c.path, c.body);
    assert.equal(res.status, 400, `${c.method} ${c.path} ${JSON.stringify(c.body)}: ${res.raw.body}`);
    assert.equal(res.value.error.code, 'BAD_REQUEST', res.raw.body);
    assert.equal(res.value.error.where, c.where, res.raw.body);
    assert.ok(res.value.error.message.includes(c.where), res.raw.body);
  }
  // A body that keeps the contract reaches the handler (here: the app does not exist → 404).
  const ok = await api<ApiError>(t, 'POST', '/apps/no-such-app/uninstall', { purgeModels: true });
  assert.equal(ok.status, 404, ok.raw.body);
});
