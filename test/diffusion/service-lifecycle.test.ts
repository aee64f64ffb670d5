import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { tempDir } from '../helpers/paths.js';
import { isAlive, startService, submit, waitFor, waitHealthy, waitJob } from './service-helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir('orchard diffusion ')));
after(() => cleanup());

test(
  'image job: queued → running → completed, SSE step progress, PNG result, explicit backend in argv, SIGTERM stops ' + 'sd-server',
  async () => {
    const outputs = path.join(dir, 'my renders');
    const service = await startService(
      dir,
      'image',
      { SDCPP_STANDIN_DEVICES: 'cuda', SDCPP_STANDIN_PROFILE: 'vulkan', SDCPP_STANDIN_LINE_MS: '40' },
      ['--backend', 'cuda0', '--outputs', outputs],
    );
    try {
      const health = await waitHealthy(service);
      assert.equal(health.status, 'ok');
      assert.equal(health.backend, 'cuda0');
      assert.equal(health.model, 'model file.gguf');
      assert.equal((health.verdict as { fallback: string }).fallback, 'none');

      const { status, json: job } = await submit(service, { prompt: 'a lovely cat', steps: 40, width: 512, height: 512, seed: 7 });
      assert.equal(status, 202);
      assert.equal(job.state, 'queued');
      const events = await fetch(service.url(`/v1/jobs/${String(job.id)}/events`));
      assert.equal(events.headers.get('content-type'), 'text/event-stream');
      const sse = await events.text(); // ends when the job ends
      const snapshots = sse
        .split('\n\n')
        .filter((b) => b.startsWith('event: '))
        .map(
          (b) =>
            JSON.parse(b.slice(b.indexOf('data: ') + 6)) as {
              state: string;
              phase: string;
              progress?: { step: number; steps: number; unit: string; etaSeconds: number };
            },
        );
      const steps = snapshots.flatMap((s) => (s.progress ? [s.progress.step] : []));
      assert.deepEqual([...new Set(steps)], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 'every captured bar arrived, in order');
      assert.ok(snapshots.every((s) => !s.progress || (s.progress.steps === 40 && s.progress.unit === 's/it')));
      const first = snapshots.find((s) => s.progress?.step === 1);
      assert.equal(first?.progress?.etaSeconds, Math.round(39 * 15.66 * 100) / 100);
      assert.ok(snapshots.some((s) => s.state === 'running' && s.phase === 'sampling'));
      assert.equal(snapshots.at(-1)?.state, 'completed');

      const done = await waitJob(service, String(job.id), ['completed']);
      assert.deepEqual(done.request, {
        kind: 'text-to-image',
        prompt: 'a lovely cat',
        steps: 40,
        width: 512,
        height: 512,
        seed: 7,
        cfg: 1,
      });
      const result = await fetch(service.url(`/v1/jobs/${String(job.id)}/result`));
      assert.equal(result.status, 200);
      assert.equal(result.headers.get('content-type'), 'image/png');
      const png = Buffer.from(await result.arrayBuffer());
      assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
      // The render is a file in --outputs (it outlives the service), and the API serves that file.
      const saved = (done.result as { file?: string }).file;
      assert.ok(
        saved &&
          path.dirname(saved) === outputs &&
          new RegExp(`^\\d{8}T\\d{6}Z-text-to-image-${String(job.id)}\\.png$`).test(path.basename(saved)),
        String(saved),
      );
      assert.ok((await readFile(saved)).equals(png));
      assert.match(service.output(), /results are saved in .*my renders/);

      const launches = service.launches();
      assert.deepEqual(launches[0]?.argv, ['--list-devices'], 'preflight first');
      const server = launches[1];
      assert.ok(server);
      const b = server.argv.indexOf('--backend');
      assert.equal(server.argv[b + 1], 'cuda0', 'explicit backend, never auto');
      assert.ok(!server.argv.includes('auto'));
      assert.equal(server.argv[server.argv.indexOf('--listen-ip') + 1], '127.0.0.1');
      assert.match(service.output(), /\| 12\/40 - 13\.52s\/it/, 'sd-server lines are echoed on stdout');

      assert.equal(await service.stop(), 0, 'SIGTERM exits cleanly');
      await waitFor('sd-server gone', async () => (isAlive(server.pid) ? undefined : true), 5000);
    } finally {
      await service.stop();
    }
  },
);

test('video job: frames normalised to 4n+1, 16 fps, WebM kept and the job says ffmpeg is missing', async () => {
  // Run as an installed app: the sandbox's ORCHARD_APP_ROOT makes <app>/outputs the default.
  const appRoot = path.join(dir, 'apps', 'wan');
  const service = await startService(dir, 'video', { SDCPP_STANDIN_DEVICES: 'cuda', ORCHARD_APP_ROOT: appRoot });
  try {
    await waitHealthy(service);
    assert.deepEqual(service.launches()[1]?.argv.slice(0, 2), ['-M', 'vid_gen']);
    const { status, json: job } = await submit(service, { prompt: 'a cat walking through a rainy alley', frames: 34 });
    assert.equal(status, 202);
    assert.equal((job.request as { frames: number }).frames, 33);
    assert.equal((job.request as { fps: number }).fps, 16);
    const done = await waitJob(service, String(job.id), ['completed', 'failed']);
    assert.equal(done.state, 'completed');
    assert.equal((done.progress as { step: number; steps: number }).steps, 8);
    const notes = done.notes as string[];
    assert.ok(notes.some((n) => /frames 34 normalised to 33/.test(n)));
    assert.ok(
      notes.some((n) => /ffmpeg is not on PATH.*WEBM.*video\/webm/.test(n)),
      notes.join(' | '),
    );
    const file = (done.result as { file?: string }).file;
    assert.ok(
      file && path.dirname(file) === path.join(appRoot, 'outputs') && file.endsWith(`-text-to-video-${String(job.id)}.webm`),
      String(file),
    );
    assert.deepEqual(done.result, { mimeType: 'video/webm', extension: 'webm', bytes: 9, file, fps: 16, frameCount: 33 });
    const result = await fetch(service.url(`/v1/jobs/${String(job.id)}/result`));
    assert.equal(result.headers.get('content-type'), 'video/webm');
    const webm = Buffer.from(await result.arrayBuffer());
    assert.deepEqual([...webm.subarray(0, 4)], [0x1a, 0x45, 0xdf, 0xa3]);
    assert.ok((await readFile(file)).equals(webm));
    // A result file the user deleted is a clear 410, not a crash.
    await rm(file);
    const gone = await fetch(service.url(`/v1/jobs/${String(job.id)}/result`));
    assert.equal(gone.status, 410);
    assert.match(((await gone.json()) as { error: { message: string } }).error.message, /no longer exists/);
    // An image service job kind is refused by the video service.
    assert.equal((await submit(service, { prompt: 'x', kind: 'text-to-image' })).status, 400);
    assert.equal((await submit(service, { prompt: 'x', kind: 'image-to-video' })).status, 400, 'image-to-video needs init_image');
    // A browser's data URL is accepted; sd.cpp gets the raw base64 without the prefix.
    const raw = Buffer.from('not really a png').toString('base64');
    const i2v = await submit(service, { prompt: 'x', kind: 'image-to-video', init_image: `data:image/png;base64,${raw}` });
    assert.equal(i2v.status, 202);
    assert.equal((i2v.json.request as { initImage: string }).initImage, `(${raw.length} base64 chars)`);
  } finally {
    await service.stop();
  }
});

test('429: sd-server full → the job waits and is resubmitted; our own queue full → 429 to the client', async () => {
  const service = await startService(
    dir,
    'image',
    { SDCPP_STANDIN_DEVICES: 'cuda', SDCPP_STANDIN_REJECT_FIRST: '2', SDCPP_STANDIN_LINE_MS: '80' },
    ['--backend', 'cuda0', '--max-queue', '1'],
  );
  try {
    await waitHealthy(service);
    const first = await submit(service, { prompt: 'one' });
    assert.equal(first.status, 202);
    const running = await waitJob(service, String(first.json.id), ['running']);
    assert.ok(
      (running.notes as string[]).some((n) => n.includes('429')),
      'the 429 is visible on the job',
    );
    const second = await submit(service, { prompt: 'two' });
    assert.equal(second.status, 202);
    const third = await submit(service, { prompt: 'three' });
    assert.equal(third.status, 429);
    assert.match(String((third.json.error as { message: string }).message), /queue is full/);
    assert.equal((await waitJob(service, String(first.json.id), ['completed', 'failed'])).state, 'completed');
    assert.equal((await waitJob(service, String(second.json.id), ['completed', 'failed'])).state, 'completed');
  } finally {
    await service.stop();
  }
});

test(
  "the recipe's flags: --backend cuda means the first CUDA device, and --steps/--width/--height are the app's job " + 'defaults',
  async () => {
    const service = await startService(dir, 'image', { SDCPP_STANDIN_DEVICES: 'cuda' }, [
      '--backend',
      'cuda',
      '--steps',
      '4',
      '--width',
      '768',
      '--height',
      '512',
      '--cfg-scale',
      '1.0',
    ]);
    try {
      await waitHealthy(service);
      const { json: job } = await submit(service, { prompt: 'a fox', seed: 1 });
      const done = await waitJob(service, String(job.id), ['completed']);
      assert.deepEqual(done.request, { kind: 'text-to-image', prompt: 'a fox', seed: 1, steps: 4, width: 768, height: 512, cfg: 1 });
      const server = service.launches()[1];
      assert.equal(server?.argv[server.argv.indexOf('--backend') + 1], 'cuda0');
    } finally {
      await service.stop();
    }
  },
);
