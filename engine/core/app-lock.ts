import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { OrchardError } from './errors.js';
import { appPaths, type AppPaths, type OrchardHome } from './home.js';
import { acquireLock, liveLockOwner, type LockOwner } from './owner-lock.js';

/**
 * One lifecycle operation per app at a time: two installs of the same app are refused, not
 * interleaved. The lock file names its owner (pid and process start time) from the moment it
 * exists; a lock whose owner is gone (killed with SIGKILL, machine crashed, pid since reused) is
 * stale and taken over — by exactly one of the processes that find it (core/owner-lock.ts).
 */
export async function acquireAppLock(app: AppPaths, operation: string): Promise<() => Promise<void>> {
  await mkdir(path.dirname(app.lockFile), { recursive: true });
  const lock = await acquireLock(
    app.lockFile,
    { operation, since: new Date().toISOString() },
    {
      refused: (owner) => {
        const o = describe(owner);
        return new OrchardError('LOCKED', `${app.id} is busy: ${o.operation} is running (pid ${o.pid}, since ${o.since})`, {
          where: app.lockFile,
          hint: 'Wait for it to finish, or stop it; a second install of the same app at once is refused.',
        });
      },
    },
  );
  return () => lock.release();
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
    const owner = await liveLockOwner(appPaths(home, app).lockFile);
    if (owner) held.push({ app, ...describe(owner) });
  }
  return held;
}

function describe(owner: LockOwner): { pid: number; operation: string; since: string } {
  return { pid: owner.pid, operation: String(owner['operation'] ?? 'an operation'), since: String(owner['since'] ?? '?') };
}
