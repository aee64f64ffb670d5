import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { Supervisor } from '../../engine/supervisor/supervisor.js';
import { tempDir } from '../helpers/paths.js';
import { fixtureSpec, isAlive, killPids } from './helpers.js';

/** Every live process whose environment holds `entry` (ours only: others' environ is unreadable). */
async function processesWith(entry: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const env = await readFile(`/proc/${name}/environ`, 'utf8').catch(() => '');
    if (env.split('\0').includes(entry) && (await isAlive(Number(name)))) out.push(Number(name));
  }
  return out;
}

test('stop ends a double-forked daemon that left the session and lost its parent, found by the run marker', {
  skip: process.platform !== 'linux',
}, async () => {
  const { dir, cleanup } = await tempDir();
  // No metrics sampling: nothing ever sees the daemon as part of the tree while its parent lives.
  const supervisor = new Supervisor({ metricsIntervalMs: 0 });
  let daemon: number | undefined;
  try {
    const status = await supervisor.start('daemonizer', fixtureSpec(dir, ['--daemon'], { stopGraceMs: 500 }));
    const deadline = Date.now() + 10_000;
    while (daemon === undefined && Date.now() < deadline) {
      daemon = supervisor
        .logs('daemonizer')
        .map((l) => /^DAEMON (\d+)$/.exec(l.line)?.[1])
        .find((p) => p !== undefined) as number | undefined;
      if (daemon === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    daemon = Number(daemon);
    assert.ok(daemon > 0, 'the fixture printed its daemon');
    assert.ok(await isAlive(daemon));
    const stat = await readFile(`/proc/${daemon}/stat`, 'utf8');
    const [, ppid, pgid, sid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    assert.notEqual(Number(pgid), status.pid, 'the daemon left the process group');
    assert.notEqual(Number(ppid), status.pid, "the daemon is not the service's child");
    assert.equal(Number(sid), daemon, 'the daemon leads its own session');
    const marker = (await readFile(`/proc/${daemon}/environ`, 'utf8')).split('\0').find((e) => e.startsWith('ORCHARD_RUN_ID='));
    assert.ok(marker, 'every process of the run carries the run marker');
    assert.deepEqual((await processesWith(marker)).sort(), [status.pid!, daemon].sort());

    await supervisor.stop('daemonizer');
    assert.equal(await isAlive(daemon), false, `the daemon ${daemon} is gone after stop`);
    assert.deepEqual(await processesWith(marker), [], 'no process carrying the run marker is left');
  } finally {
    await supervisor.close();
    if (daemon) killPids([daemon]);
    await cleanup();
  }
});
