import { appendFile, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveHome, appPaths } from '../../engine/core/home.js';
import { acquireAppLock } from '../../engine/core/app-lock.js';
import { acquirePartLock } from '../../engine/store/download/part-lock.js';

/**
 * A second process for the lock race tests: `node lock-child.js app|part <home> <journal>`. For
 * each round number read on stdin it takes the lock (the app lock refuses when held; the part
 * lock is retried until free), runs a "step" that appends `round N` to the journal only when the
 * journal does not have it yet (a check-then-act that is only safe under the lock), lets go, and
 * answers the round number on stdout.
 */
const [kind, home, journal] = process.argv.slice(2) as [string, string, string];
const app = appPaths(resolveHome({ ORCHARD_HOME: home }), 'raced');
const part = `${home}/raced.part`;

async function take(): Promise<(() => Promise<void>) | undefined> {
  for (;;) {
    try {
      return kind === 'app' ? await acquireAppLock(app, 'install') : await acquirePartLock(part);
    } catch (err) {
      if ((err as { code?: string }).code !== 'LOCKED') throw err;
      if (kind === 'app') return undefined; // refused: the other process is running the step
      await sleep(2);
    }
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  const round = line.trim();
  if (round === '') continue;
  const release = await take();
  if (release) {
    try {
      const text = await readFile(journal, 'utf8').catch(() => '');
      if (!text.split('\n').includes(`round ${round}`)) {
        await sleep(3); // the step takes a moment: a second holder would see the journal unchanged
        await appendFile(journal, `round ${round}\n`);
      }
    } finally {
      await release();
    }
  }
  process.stdout.write(`${round}\n`);
}
