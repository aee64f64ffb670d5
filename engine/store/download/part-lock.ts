import { OrchardError } from '../../core/errors.js';
import { acquireLock, liveLockOwner, tryLock, type HeldLock } from '../../core/owner-lock.js';

/**
 * One writer per part file across processes: `<part>.lock` names the writer (pid and process
 * start time) from the moment it exists. A lock whose process is gone (killed mid-download) is
 * stale and taken over by exactly one taker (core/owner-lock.ts). With `wait`, a second process
 * that needs the same file waits for the first to finish instead of failing.
 */
export async function acquirePartLock(
  partFile: string,
  o: { wait?: boolean; signal?: AbortSignal | undefined; onWait?: (pid: number) => void } = {},
): Promise<() => Promise<void>> {
  const lock = await acquireLock(
    `${partFile}.lock`,
    { operation: 'download' },
    {
      ...(o.wait ? { wait: true } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onWait ? { onWait: (owner: { pid: number }) => o.onWait?.(owner.pid) } : {}),
      refused: (owner) =>
        owner.pid === process.pid
          ? new OrchardError('LOCKED', 'this file is already being downloaded by this process', {
              where: partFile,
              hint: 'Wait for the other download to finish.',
            })
          : new OrchardError('LOCKED', `another Orchard process (pid ${owner.pid}) is downloading this file`, {
              where: partFile,
              hint: 'Wait for it to finish, or stop it; the download resumes from where it is.',
            }),
    },
  );
  return () => lock.release();
}

/** The part lock if no live process holds it (for removing an idle partial safely), else undefined. */
export async function tryPartLock(partFile: string): Promise<HeldLock | undefined> {
  return (await tryLock(`${partFile}.lock`, { operation: 'cleanup' })).lock;
}

/** The live process downloading into this part file now, if any (a dead owner's lock does not count). */
export async function partLockOwner(partFile: string): Promise<number | undefined> {
  return (await liveLockOwner(`${partFile}.lock`))?.pid;
}
