import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { OrchardError } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';
import { acquireLock } from '../core/owner-lock.js';

/**
 * The store's maintenance lock (`store/gc.lock`). `store gc` holds it from the moment it checks
 * that no install is running until its last deletion. An install passes through it (takes it and
 * lets go at once) after taking its app lock and before it looks at the store: a gc that began
 * before the app lock existed finishes first, and a gc that begins later sees the app lock and
 * deletes nothing. So no blob is deleted between an install finding it and recording it.
 */
export function storeLockFile(home: OrchardHome): string {
  return path.join(home.store, 'gc.lock');
}

export async function withStoreLock<T>(
  home: OrchardHome,
  what: string,
  fn: () => Promise<T>,
  o: { signal?: AbortSignal | undefined } = {},
): Promise<T> {
  await mkdir(home.store, { recursive: true });
  const lock = await acquireLock(storeLockFile(home), { operation: what }, { wait: true, pollMs: 100, signal: o.signal, refused });
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

/** Wait for a `store gc` that is running now to finish (an install calls this before it looks at the store). */
export async function storeBarrier(
  home: OrchardHome,
  o: { signal?: AbortSignal | undefined; log?: (line: string) => void } = {},
): Promise<void> {
  await mkdir(home.store, { recursive: true });
  const lock = await acquireLock(
    storeLockFile(home),
    { operation: 'install (passing)' },
    {
      wait: true,
      pollMs: 100,
      signal: o.signal,
      onWait: (owner) => o.log?.(`the store is being cleaned up (pid ${owner.pid}, ${String(owner['operation'] ?? 'gc')}); waiting for it`),
      refused,
    },
  );
  await lock.release();
}

function refused(owner: { pid: number }): Error {
  return new OrchardError('LOCKED', `the store is locked by pid ${owner.pid}`, { hint: 'Wait for it to finish.' });
}
