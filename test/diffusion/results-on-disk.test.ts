import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { tempDir } from '../helpers/paths.js';
import { startService, submit, waitHealthy, waitJob } from './service-helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir('orchard diffusion results ')));
after(() => cleanup());

test(
  'results are files and the job table survives a restart: a new service lists earlier jobs from disk and serves their ' + 'results',
  async () => {
    // Neither --outputs nor an app: results still go to disk (ORCHARD_HOME/service-outputs/image), never memory only.
    const outputs = path.join(dir, 'service-outputs', 'image');
    const first = await startService(dir, 'image', { SDCPP_STANDIN_DEVICES: 'cuda' });
    let jobId: string;
    let png: Buffer;
    try {
      await waitHealthy(first);
      assert.match(first.output(), /results are saved in .*service-outputs/);
      const { json: job } = await submit(first, { prompt: 'a lighthouse', steps: 4 });
      jobId = String(job.id);
      const done = await waitJob(first, jobId, ['completed', 'failed']);
      assert.equal(done.state, 'completed', JSON.stringify(done));
      const file = (done.result as { file?: string }).file;
      assert.ok(file && path.dirname(file) === outputs, String(file));
      png = await readFile(file);
      assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    } finally {
      await first.stop();
    }
    assert.deepEqual(
      await readdir(path.join(outputs, '.orchard-jobs')),
      [`${jobId}.json`],
      "the job's metadata is on disk beside its result",
    );

    const second = await startService(dir, 'image', { SDCPP_STANDIN_DEVICES: 'cuda' });
    try {
      await waitHealthy(second);
      const list = (await (await fetch(second.url('/v1/jobs'))).json()) as {
        jobs: { id: string; state: string; result?: { file?: string } }[];
      };
      const earlier = list.jobs.find((j) => j.id === jobId);
      assert.ok(earlier, `the restarted service lists the earlier job: ${JSON.stringify(list.jobs.map((j) => j.id))}`);
      assert.equal(earlier.state, 'completed');
      const one = await fetch(second.url(`/v1/jobs/${jobId}`));
      assert.equal(one.status, 200);
      const result = await fetch(second.url(`/v1/jobs/${jobId}/result`));
      assert.equal(result.status, 200);
      assert.equal(result.headers.get('content-type'), 'image/png');
      assert.ok(Buffer.from(await result.arrayBuffer()).equals(png), 'the earlier result is served from its file');
    } finally {
      await second.stop();
    }
  },
);
