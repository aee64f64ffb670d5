import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { test } from 'node:test';
import { isOrchardError } from '../../engine/core/errors.js';
import type { AppStatus } from '../../engine/supervisor/app-status.js';
import { Supervisor } from '../../engine/supervisor/supervisor.js';
import { tempDir } from '../helpers/paths.js';
import { fixtureSpec, isAlive, waitForStatus } from './helpers.js';

test('a service becomes ready on an allocated port, answers there, and stops', async () => {
  const { dir, cleanup } = await tempDir();
  const supervisor = new Supervisor({ metricsIntervalMs: 0 });
  try {
    const seen: string[] = [];
    supervisor.on('status', (s) => seen.push(s.state));
    const status = await supervisor.start('web', fixtureSpec(dir, [], { ui: '/ui' }));
    assert.equal(status.state, 'ready');
    assert.ok(status.port && status.port > 1024);
    assert.equal(status.url, `http://127.0.0.1:${status.port}/ui`);
    assert.ok(status.pid && (await isAlive(status.pid)));
    assert.ok(status.startedAt && status.readyAt && status.readyAt >= status.startedAt);
    const body = (await (await fetch(`http://127.0.0.1:${status.port}/health`)).json()) as { pid: number };
    assert.equal(body.pid, status.pid);
    const stopped = await supervisor.stop('web');
    assert.equal(stopped.state, 'stopped');
    assert.equal(await isAlive(status.pid), false);
    assert.deepEqual(
      seen.filter((s, i) => s !== seen[i - 1]),
      ['starting', 'ready', 'stopped'],
    );
  } finally {
    await supervisor.close();
    await cleanup();
  }
});

test('readiness by log pattern', async () => {
  const { dir, cleanup } = await tempDir();
  const supervisor = new Supervisor({ metricsIntervalMs: 0 });
  try {
    const status = await supervisor.start(
      'logready',
      fixtureSpec(dir, ['--listen-after', '300', '--say', 'Model loaded in 0.3 s'], {
        readiness: { log: 'Model loaded in [0-9.]+ s', timeoutMs: 8000 },
      }),
    );
    assert.equal(status.state, 'ready');
    assert.ok(supervisor.logs('logready').some((l) => l.line.startsWith('Model loaded')));
  } finally {
    await supervisor.close();
    await cleanup();
  }
});

test('readiness timeout: start fails with the last log lines, status unhealthy, nothing left running', async () => {
  const { dir, cleanup } = await tempDir();
  const supervisor = new Supervisor({ metricsIntervalMs: 0 });
  try {
    // Never listens: prints lines and waits forever (well, 120 s).
    const spec = fixtureSpec(dir, ['--lines', '3'], { readiness: { http: '/health', timeoutMs: 1500 } });
    spec.argv = spec.argv.filter((a, i, all) => a !== '--port' && all[i - 1] !== '--port');
    const started = Date.now();
    await assert.rejects(supervisor.start('slow', spec), (err: unknown) => {
      assert.ok(isOrchardError(err));
      assert.equal(err.code, 'SERVICE');
      assert.match(err.message, /did not become ready within 1500 ms/);
      assert.match(err.message, /GET \/health never answered/);
      assert.match(err.message, /line 3/);
      assert.match(err.where ?? '', /app slow, log .*service-.*\.log/);
      return true;
    });
    assert.ok(Date.now() - started < 5000, 'gave up near the timeout');
    const status = supervisor.status('slow');
    assert.equal(status.state, 'unhealthy');
    assert.equal(status.pid, undefined);
    assert.match(status.error ?? '', /line 1/);
  } finally {
    await supervisor.close();
    await cleanup();
  }
});

test('a crash is detected within 2 s and, with policy never, reported as crashed with its exit code', async () => {
  const { dir, cleanup } = await tempDir();
  const supervisor = new Supervisor({ metricsIntervalMs: 0 });
  try {
    const ready = await supervisor.start('crashy', fixtureSpec(dir, []));
    assert.ok(ready.pid);
    const crashed = waitForStatus(supervisor, 'crashy', (s) => s.state === 'crashed', 5000);
    const killedAt = Date.now();
    process.kill(ready.pid, 'SIGKILL');
    const status = await crashed;
    assert.ok(Date.now() - killedAt < 2000, `crash seen after ${Date.now() - killedAt} ms`);
    assert.equal(status.signal, 'SIGKILL');
    assert.match(status.error ?? '', /was killed by SIGKILL/);
    // Its own exit code, when it exits by itself.
    const again = await supervisor.start('crashy', fixtureSpec(dir, ['--crash-after', '1000']));
    const exited = await waitForStatus(supervisor, 'crashy', (s) => s.state === 'crashed' && s.run === again.run, 5000);
    assert.equal(exited.exitCode, 3);
    assert.match(exited.error ?? '', /crashing on purpose/);
  } finally {
    await supervisor.close();
    await cleanup();
  }
});

test('restarts with exponential backoff, then gives up after maxRestarts', async () => {
  const { dir, cleanup } = await tempDir();
  const supervisor = new Supervisor({ metricsIntervalMs: 0 });
  try {
    const events: { at: number; status: AppStatus }[] = [];
    supervisor.on('status', (status) => events.push({ at: Date.now(), status }));
    // Crashes 800 ms after listening: long enough for readiness to see it each time.
    const spec = fixtureSpec(dir, ['--crash-after', '800'], { restart: { policy: 'on-failure', maxRestarts: 3, backoffMs: 200 } });
    await supervisor.start('flaky', spec);
    const final = await waitForStatus(supervisor, 'flaky', (s) => s.state === 'crashed' && s.nextRestartAt === undefined, 20_000);
    assert.equal(final.restarts, 3);
    assert.equal(final.exitCode, 3);
    const launches = events.filter((e, i) => e.status.state === 'starting' && events[i - 1]?.status.state !== 'starting');
    assert.deepEqual(
      launches.map((e) => e.status.restarts),
      [0, 1, 2, 3],
      'first run plus three restarts',
    );
    // The wait between a crash and the next launch doubles: 200, 400, 800 ms.
    const crashes = events.filter((e) => e.status.nextRestartAt !== undefined);
    assert.deepEqual(
      crashes.map((e) => e.status.restarts),
      [0, 1, 2],
    );
    const waits = crashes.map((crash, i) => (launches[i + 1]?.at ?? 0) - crash.at);
    [200, 400, 800].forEach((expected, i) => {
      const wait = waits[i] ?? 0;
      assert.ok(wait >= expected - 20 && wait < expected + 600, `waits ${waits.join(', ')} ms`);
    });
    assert.ok(supervisor.logs('flaky').some((l) => /giving up after 3 restart/.test(l.line)));
  } finally {
    await supervisor.close();
    await cleanup();
  }
});

test('two apps run at once on different ports; stopping one leaves the other', async () => {
  const { dir, cleanup } = await tempDir();
  const supervisor = new Supervisor({ metricsIntervalMs: 0 });
  try {
    await mkdir(`${dir}/alpha`);
    await mkdir(`${dir}/beta`);
    const [a, b] = await Promise.all([
      supervisor.start('alpha', fixtureSpec(`${dir}/alpha`, ['--say', 'I am alpha'])),
      supervisor.start('beta', fixtureSpec(`${dir}/beta`, ['--say', 'I am beta'])),
    ]);
    assert.notEqual(a.port, b.port);
    assert.equal(supervisor.list().filter((s) => s.state === 'ready').length, 2);
    assert.ok(supervisor.logs('alpha').some((l) => l.line === 'I am alpha'));
    assert.ok(!supervisor.logs('alpha').some((l) => l.line === 'I am beta'));
    await assert.rejects(supervisor.start('alpha', fixtureSpec(dir, [])), /already running/);
    await supervisor.stop('alpha');
    assert.equal(supervisor.status('alpha').state, 'stopped');
    assert.equal(supervisor.status('beta').state, 'ready');
    assert.equal((await fetch(`http://127.0.0.1:${b.port}/health`)).status, 200);
  } finally {
    await supervisor.close();
    await cleanup();
  }
});

test('failing health checks while running turn the app unhealthy', async () => {
  const { dir, cleanup } = await tempDir();
  const supervisor = new Supervisor({ metricsIntervalMs: 0 });
  try {
    await supervisor.start(
      'sick',
      fixtureSpec(dir, ['--unhealthy-after', '300'], { health: { intervalMs: 200, failuresBeforeUnhealthy: 2 } }),
    );
    const status = await waitForStatus(supervisor, 'sick', (s) => s.state === 'unhealthy', 5000);
    assert.match(status.error ?? '', /failed 2 health checks in a row \(GET \/health\)/);
    assert.ok(status.pid, 'still running');
  } finally {
    await supervisor.close();
    await cleanup();
  }
});

test('a missing program fails to start with a clear error and no restart', async () => {
  const { dir, cleanup } = await tempDir();
  const supervisor = new Supervisor({ metricsIntervalMs: 0 });
  try {
    const spec = fixtureSpec(dir, [], { restart: { policy: 'always', maxRestarts: 5, backoffMs: 50 } });
    spec.argv = [`${dir}/no such program`];
    await assert.rejects(supervisor.start('ghost', spec), /could not be started/);
    assert.equal(supervisor.status('ghost').state, 'crashed');
    assert.equal(supervisor.status('ghost').restarts, 0);
    await assert.rejects(supervisor.start('ghost', { ...spec, cwd: `${dir}/missing` }), /working folder of ghost does not exist/);
  } finally {
    await supervisor.close();
    await cleanup();
  }
});
