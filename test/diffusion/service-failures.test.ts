import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { tempDir } from '../helpers/paths.js';
import { startService, submit, waitHealthy, waitJob } from './service-helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir('orchard diffusion ')));
after(() => cleanup());

test('wrong device: a CPU-only sd-server with --backend cuda0 → red verdict, exit 1, sd-server never started', async () => {
  const service = await startService(dir, 'image', { SDCPP_STANDIN_DEVICES: 'cpu' });
  const timer = setTimeout(() => service.child.kill('SIGKILL'), 15_000);
  const code = await service.exited;
  clearTimeout(timer);
  assert.equal(code, 1);
  const out = service.output();
  assert.match(out, /error: no cuda0 device: the image service would run on the CPU, so it does not start/);
  assert.match(out, /evidence: CPU\tAMD Ryzen 7 8745HS/);
  assert.match(out, /-DSD_CUDA=ON/);
  const verdictLine = /preflight verdict: (\{.*\})/.exec(out)?.[1];
  assert.ok(verdictLine);
  assert.deepEqual(JSON.parse(verdictLine).fallback, 'full');
  assert.deepEqual(
    service.launches().map((l) => l.argv),
    [['--list-devices']],
    'no silent CPU start: only the preflight ran',
  );
});

test('default backend on this platform is explicit, and --backend cpu is an explicit opt-in', async () => {
  const gpu = await startService(dir, 'image', { SDCPP_STANDIN_DEVICES: 'cuda' }, []);
  try {
    await waitHealthy(gpu);
    const argv = gpu.launches()[1]?.argv ?? [];
    assert.equal(argv[argv.indexOf('--backend') + 1], process.platform === 'darwin' ? 'metal' : 'cuda0');
  } finally {
    await gpu.stop();
  }
  const cpu = await startService(dir, 'image', { SDCPP_STANDIN_DEVICES: 'cpu' }, ['--backend', 'cpu']);
  try {
    const health = await waitHealthy(cpu);
    assert.equal((health.verdict as { backend: string }).backend, 'cpu');
    const argv = cpu.launches()[1]?.argv ?? [];
    assert.equal(argv[argv.indexOf('--backend') + 1], 'cpu');
  } finally {
    await cpu.stop();
  }
});

test('crash mid-job (GGML abort): the job fails with the signal and log tail, health reports it, sd-server restarts', async () => {
  const service = await startService(
    dir,
    'image',
    { SDCPP_STANDIN_DEVICES: 'metal', SDCPP_STANDIN_PROFILE: 'metal-ram', SDCPP_STANDIN_ABORT: '1' },
    ['--backend', 'metal'],
  );
  try {
    const health = await waitHealthy(service);
    // A module placed in RAM while Metal was expected: reported per module, verdict partial.
    const memory = health.memory as { params: { module: string; where: string }[] };
    assert.deepEqual(memory.params.find((p) => p.module === 'clip')?.where, 'RAM');
    assert.equal((health.verdict as { fallback: string }).fallback, 'partial');

    const { json: job } = await submit(service, { prompt: 'a lovely cat' });
    const failed = await waitJob(service, String(job.id), ['failed', 'completed']);
    assert.equal(failed.state, 'failed');
    const error = failed.error as { message: string; signal: string; logTail: string[] };
    assert.equal(error.signal, 'SIGABRT');
    assert.match(error.message, /killed by SIGABRT during the job.*GGML abort/);
    assert.ok(
      error.logTail.some((l) => l.includes("unsupported op 'IM2COL_3D'")),
      error.logTail.join('\n'),
    );
    const after = await waitHealthy(service); // restarted
    assert.equal((after.lastExit as { signal: string }).signal, 'SIGABRT');
    assert.equal(service.launches().length, 3, 'preflight, first sd-server, restarted sd-server');
    assert.equal(service.child.exitCode, null, 'the service itself survived');
  } finally {
    await service.stop();
  }
});

test('cancel: a queued job is dropped; a generating job stops sd-server (sd.cpp cannot interrupt it) and the next job runs', async () => {
  const service = await startService(dir, 'image', {
    SDCPP_STANDIN_DEVICES: 'cuda',
    SDCPP_STANDIN_PROFILE: 'vulkan',
    SDCPP_STANDIN_LINE_MS: '300',
  });
  try {
    await waitHealthy(service);
    const first = (await submit(service, { prompt: 'one' })).json;
    const second = (await submit(service, { prompt: 'two' })).json;
    await waitJob(service, String(first.id), ['running']);
    const cancelQueued = await fetch(service.url(`/v1/jobs/${String(second.id)}/cancel`), { method: 'POST' });
    assert.equal(((await cancelQueued.json()) as { state: string }).state, 'cancelled');
    const generatingPid = service.launches()[1]?.pid;
    const cancelRunning = (await (await fetch(service.url(`/v1/jobs/${String(first.id)}/cancel`), { method: 'POST' })).json()) as {
      state: string;
      notes: string[];
    };
    assert.equal(cancelRunning.state, 'cancelled');
    assert.ok(cancelRunning.notes.some((n) => n.includes('sd-server was restarted')));
    const health = await waitHealthy(service);
    assert.equal(health.lastExit, undefined, 'an intended restart is not a crash');
    assert.equal(service.launches().length, 3);
    assert.notEqual(service.launches()[2]?.pid, generatingPid);
    const result = await fetch(service.url(`/v1/jobs/${String(first.id)}/result`));
    assert.equal(result.status, 409);
    const third = (await submit(service, { prompt: 'three' })).json;
    await waitJob(service, String(third.id), ['running']);
  } finally {
    await service.stop();
  }
});
