import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { REQUEST_SCHEMAS, type JobApiRouteKey, type JobApiRoutes } from '../../engine/services/diffusion/contract.js';
import { ROUTES } from '../../engine/services/diffusion/job-api.js';
import { tempDir } from '../helpers/paths.js';
import { startService, submit, waitHealthy } from './service-helpers.js';

// The job API's contract (engine/services/diffusion/contract.ts) against its route table and the service.
let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir('orchard diffusion contract ')));
after(() => cleanup());

test('the route table and the contract name the same routes', () => {
  const contract: Record<JobApiRouteKey, true> = {
    'GET /health': true,
    'POST /v1/jobs': true,
    'GET /v1/jobs': true,
    'GET /v1/jobs/:id': true,
    'POST /v1/jobs/:id/cancel': true,
    'GET /v1/jobs/:id/events': true,
    'GET /v1/jobs/:id/result': true,
  } satisfies Record<keyof JobApiRoutes, true>;
  assert.deepEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort(), Object.keys(contract).sort());
  for (const key of Object.keys(REQUEST_SCHEMAS)) assert.ok(key in contract && key.startsWith('POST '), key);
});

test('a job that breaks the contract is a 400 naming the JSON pointer, and is never queued', async () => {
  const service = await startService(dir, 'image', {});
  try {
    await waitHealthy(service);
    const cases: { body: unknown; where: string }[] = [
      { body: { prompt: 'a cat', width: '512' }, where: '/width' },
      { body: { prompt: 7 }, where: '/prompt' },
      { body: { steps: 4 }, where: '/prompt' },
      { body: { prompt: 'a cat', negative: ['dogs'] }, where: '/negative' },
      { body: ['a cat'], where: '/' },
    ];
    for (const c of cases) {
      const { status, json } = await submit(service, c.body as Record<string, unknown>);
      assert.equal(status, 400, JSON.stringify(c));
      const error = json.error as { code: string; message: string; where?: string; hint?: string };
      assert.equal(error.code, 'USAGE');
      assert.equal(error.where, c.where, JSON.stringify(json));
      assert.match(error.hint ?? '', /contract\.ts/);
    }
    // The hand checks that do more than types answer in the same shape, with a pointer.
    const range = await submit(service, { prompt: 'a cat', steps: 9999 });
    assert.equal(range.status, 400);
    assert.equal((range.json.error as { where?: string }).where, '/steps');
    const jobs = (await (await fetch(service.url('/v1/jobs'))).json()) as { jobs: unknown[] };
    assert.deepEqual(jobs.jobs, []);
  } finally {
    await service.stop();
  }
});
