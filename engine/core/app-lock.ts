import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { OrchardError } from './errors.js';
import { appPaths, type AppPaths, type OrchardHome } from './home.js';
import { isProcessAlive } from './process-alive.js';

/**
 * One lifecycle operation per app at a time: two installs of the same app are refused, not
 * interleaved. The lock file holds the owner's pid; a lock whose owner is gone (killed with
 * SIGKILL, machine crashed) is stale and taken over, so a crash never blocks the next install.
 */
export async function acquireAppLock(app: AppPaths, operation: string): Promise<() => Promise<void>> {
  await mkdir(path.dirname(app.lockFile), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(app.lockFile, 'wx');
      await handle.writeFile(JSON.stringify({ pid: process.pid, operation, since: new Date().toISOString() }));
      await handle.close();
      return async () => {
        await rm(app.lockFile, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = await readOwner(app.lockFile);
      if (owner && isProcessAlive(owner.pid)) {
        throw new OrchardError('LOCKED', `${app.id} is busy: ${owner.operation} is running (pid ${owner.pid}, since ${owner.since})`, {
          where: app.lockFile,
          hint: 'Wait for it to finish, or stop it; a second install of the same app at once is refused.',
        });
      }
      await rm(app.lockFile, { force: true });
    }
  }
  throw new OrchardError('LOCKED', `could not take the lock of ${app.id}`, { where: app.lockFile, hint: 'Try again.' });
}

/** An app's lifecycle operation that is running now (its lock's owner is alive). */
export interface HeldAppLock {
  app: string;
  pid: number;
  operation: string;
  since: string;
}

/** Every app lock held by a live process, in app order (stale locks of dead processes are not). */
export async function heldAppLocks(home: OrchardHome): Promise<HeldAppLock[]> {
  const apps = await readdir(home.apps).catch(() => [] as string[]);
  const held: HeldAppLock[] = [];
  for (const app of apps.sort()) {
    const owner = await readOwner(appPaths(home, app).lockFile);
    if (owner && isProcessAlive(owner.pid)) held.push({ app, ...owner });
  }
  return held;
}

async function readOwner(file: string): Promise<{ pid: number; operation: string; since: string } | undefined> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as { pid?: unknown; operation?: unknown; since?: unknown };
    if (typeof value.pid !== 'number') return undefined;
    return { pid: value.pid, operation: String(value.operation ?? 'an operation'), since: String(value.since ?? '?') };
  } catch {
    return undefined; // half-written by a process that died: stale
  }
}

