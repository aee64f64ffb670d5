import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { distRoot, tempDir } from '../helpers/paths.js';

/**
 * Issue 22: the app lock and the part lock under a race of two real processes, round after round,
 * with no lock before the round, with a stale lock of a dead process, and with a stale lock whose
 * pid is alive but belongs to a process that started at another moment (a reused pid). Each round
 * the "step" guarded by the lock must run exactly once.
 */
const ROUNDS = 50;
const child = path.join(distRoot, 'test', 'helpers', 'lock-child.js');

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard lock race '));
});
after(async () => cleanup());

interface Racer {
  proc: ChildProcessWithoutNullStreams;
  next: () => Promise<string>;
}

function startRacer(kind: string, home: string, journal: string): Racer {
  const proc = spawn(process.execPath, [child, kind, home, journal]);
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  return {
    proc,
    next: async () => {
      const r = await lines.next();
      if (r.done) throw new Error(`the ${kind} racer exited: ${stderr}`);
      return String(r.value);
    },
  };
}

const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid ?? 999_999;

for (const kind of ['app', 'part'] as const) {
  test(
    `${kind} lock: two processes, ${ROUNDS} rounds each with no lock, a dead owner's lock and a reused pid's lock: the step ` +
      'runs exactly once',
    async () => {
      const home = path.join(root, kind);
      const journal = path.join(home, 'journal.txt');
      const lockFile = kind === 'app' ? path.join(home, 'apps', 'raced', '.lock') : path.join(home, 'raced.part.lock');
      await mkdir(path.dirname(lockFile), { recursive: true });
      await writeFile(journal, '');
      const racers = [startRacer(kind, home, journal), startRacer(kind, home, journal)];
      try {
        const dead = deadPid();
        const scenarios: { name: string; stale?: () => string }[] = [
          { name: 'free' },
          { name: 'dead owner', stale: () => JSON.stringify({ pid: dead, start: '12345', operation: 'install' }) },
          // This test process is alive, but it did not start at that moment: the pid was reused.
          { name: 'reused pid', stale: () => JSON.stringify({ pid: process.pid, start: '1', operation: 'install' }) },
        ];
        let round = 0;
        for (const s of scenarios) {
          for (let i = 0; i < ROUNDS; i++) {
            round++;
            if (s.stale) await writeFile(lockFile, s.stale());
            for (const r of racers) r.proc.stdin.write(`${round}\n`);
            const answers = await Promise.all(racers.map((r) => r.next()));
            assert.deepEqual(answers, [String(round), String(round)]);
            const runs = (await readFile(journal, 'utf8')).split('\n').filter((l) => l === `round ${round}`).length;
            assert.equal(runs, 1, `${s.name}, round ${round}: the step ran ${runs} times`);
          }
        }
        const left = (await readdir(path.dirname(lockFile))).filter((n) => n.includes('.lock'));
        assert.deepEqual(left, [], 'every lock (and every right to replace a stale one) was let go');
      } finally {
        for (const r of racers) r.proc.stdin.end();
        await Promise.all(
          racers.map((r) => new Promise((resolve) => (r.proc.exitCode !== null ? resolve(null) : r.proc.once('exit', resolve)))),
        );
      }
    },
  );
}

test('a live owner is respected: neither process runs the step while this process holds the lock', async () => {
  const home = path.join(root, 'held');
  const journal = path.join(home, 'journal.txt');
  const { acquireAppLock } = await import('../../engine/core/app-lock.js');
  const { appPaths, resolveHome } = await import('../../engine/core/home.js');
  await mkdir(home, { recursive: true });
  await writeFile(journal, '');
  const release = await acquireAppLock(appPaths(resolveHome({ ORCHARD_HOME: home }), 'raced'), 'install');
  const racers = [startRacer('app', home, journal), startRacer('app', home, journal)];
  try {
    for (const r of racers) r.proc.stdin.write('1\n');
    assert.deepEqual(await Promise.all(racers.map((r) => r.next())), ['1', '1']);
    assert.equal(await readFile(journal, 'utf8'), '', 'the lock of a live process was not taken over');
  } finally {
    await release();
    for (const r of racers) r.proc.stdin.end();
  }
});
