import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Supervisor } from '../../engine/supervisor/supervisor.js';
import { tempDir } from '../helpers/paths.js';
import { fixtureSpec, grandchildPids, isAlive, killPids, waitForStatus } from './helpers.js';

test('stop kills a whole tree that ignores SIGTERM, including a grandchild that left the process group', async () => {
  const { dir, cleanup } = await tempDir();
  const supervisor = new Supervisor({ metricsIntervalMs: 200 });
  let pids: number[] = [];
  try {
    const status = await supervisor.start('stubborn', fixtureSpec(dir, ['--ignore-term', '--grandchildren', '2'], { stopGraceMs: 800 }));
    // One grandchild in the group, one escaped (own session): spawn a second service for that.
    const escaped = await supervisor.start(
      'escaper',
      fixtureSpec(dir, ['--ignore-term', '--grandchildren', '1', '--escape'], { stopGraceMs: 800 }),
    );
    // Let the sampler see the escaped grandchild while its parent is alive.
    await new Promise((resolve) => setTimeout(resolve, 600));
    pids = [status.pid!, escaped.pid!, ...grandchildPids(supervisor, 'stubborn'), ...grandchildPids(supervisor, 'escaper')];
    assert.equal(pids.length, 5);
    for (const pid of pids) assert.ok(await isAlive(pid), `pid ${pid} runs before stop`);
    const metrics = supervisor.metrics('escaper');
    assert.ok(metrics && metrics.pids.length === 2, `the escaped grandchild is part of the tree: ${JSON.stringify(metrics?.pids)}`);

    const started = Date.now();
    const [a, b] = await Promise.all([supervisor.stop('stubborn'), supervisor.stop('escaper')]);
    const took = Date.now() - started;
    assert.equal(a.state, 'stopped');
    assert.equal(b.state, 'stopped');
    assert.ok(took >= 700, `waited the grace period before SIGKILL (${took} ms)`);
    assert.ok(took < 5000, `stop took ${took} ms`);
    for (const pid of pids) assert.equal(await isAlive(pid), false, `pid ${pid} is gone`);
    assert.ok(
      supervisor.logs('stubborn').some((l) => l.line === 'ignoring SIGTERM'),
      'SIGTERM came first',
    );
  } finally {
    await supervisor.close();
    killPids(pids);
    await cleanup();
  }
});

test('when the main process crashes, its leftover children are cleaned up too, even one that left the group', async () => {
  const { dir, cleanup } = await tempDir();
  const supervisor = new Supervisor({ metricsIntervalMs: 200 });
  let pids: number[] = [];
  try {
    const inGroup = await supervisor.start('orphans', fixtureSpec(dir, ['--grandchildren', '2'], { stopGraceMs: 300 }));
    const escaping = await supervisor.start('escapee', fixtureSpec(dir, ['--grandchildren', '1', '--escape'], { stopGraceMs: 300 }));
    pids = [...grandchildPids(supervisor, 'orphans'), ...grandchildPids(supervisor, 'escapee')];
    assert.equal(pids.length, 3);
    // Let the sampler remember the escaped grandchild: once its parent dies, nothing else links it to the app.
    await new Promise((resolve) => setTimeout(resolve, 600));
    process.kill(inGroup.pid!, 'SIGKILL');
    process.kill(escaping.pid!, 'SIGKILL');
    await waitForStatus(supervisor, 'orphans', (s) => s.state === 'crashed');
    await waitForStatus(supervisor, 'escapee', (s) => s.state === 'crashed');
    await supervisor.stop('orphans');
    await supervisor.stop('escapee');
    for (const pid of pids) assert.equal(await isAlive(pid), false, `grandchild ${pid} is gone`);
  } finally {
    await supervisor.close();
    killPids(pids);
    await cleanup();
  }
});
