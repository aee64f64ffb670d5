import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, link, lstat, open, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OrchardError } from './errors.js';
import { isIdentityAlive, selfIdentity, type ProcessIdentity } from './process-identity.js';

/**
 * A lock file that names its owner from the moment it exists, and whose stale copies are taken
 * over without a window.
 *
 * Taking it: the owner (pid, process start time and what it is doing) is written to a private temp
 * file first, which is then hard-linked to the lock's name: link() fails when the name exists, so
 * the lock appears whole or not at all — never empty, never half-written.
 *
 * A stale lock (its owner's pid is gone, or that pid now belongs to a process that started at
 * another moment) is replaced by rename(), but only by the one process that first wins a second
 * lock, `<lock>.stale-<inode>`, named after the exact file it replaces. The winner reads the lock
 * again under that right and replaces it only if it is still that same stale file. So of two
 * processes that find the same stale lock, exactly one takes it; the other finds a live owner.
 * The right is itself such a lock, so a taker that dies while holding it does not block anyone.
 */
export interface LockOwner extends ProcessIdentity {
  [key: string]: unknown;
}

export interface HeldLock {
  file: string;
  release(): Promise<void>;
}

export type LockAttempt = { lock: HeldLock; owner?: undefined } | { lock?: undefined; owner: LockOwner };

const MAX_DEPTH = 3;
const READ_LIMIT = 64 * 1024;

/** One attempt: the lock, or the live owner that holds it. Never waits. */
export async function tryLock(file: string, info: Record<string, string | number> = {}): Promise<LockAttempt> {
  const owner: LockOwner = { ...info, ...(await selfIdentity()) };
  return attempt(file, owner, 0);
}

/**
 * Take the lock, or (with `wait`) poll until its owner lets go or dies. Without `wait`, a live
 * owner is an error made by `refused`.
 */
export async function acquireLock(
  file: string,
  info: Record<string, string | number>,
  o: {
    wait?: boolean;
    pollMs?: number;
    signal?: AbortSignal | undefined;
    onWait?: (owner: LockOwner) => void;
    refused: (owner: LockOwner) => Error;
  },
): Promise<HeldLock> {
  let told = false;
  for (;;) {
    o.signal?.throwIfAborted();
    const got = await tryLock(file, info);
    if (got.lock) return got.lock;
    if (!o.wait) throw o.refused(got.owner);
    if (!told) o.onWait?.(got.owner);
    told = true;
    await sleep(o.pollMs ?? 150, undefined, o.signal ? { signal: o.signal } : {});
  }
}

/** The owner of a lock while that owner is alive; undefined when free or stale. */
export async function liveLockOwner(file: string): Promise<LockOwner | undefined> {
  const current = await readLock(file);
  return current?.owner && (await isIdentityAlive(current.owner)) ? current.owner : undefined;
}

interface LockOnDisk {
  dev: number;
  ino: number;
  /** Undefined when the file is not a regular file or does not hold an owner: stale by definition. */
  owner?: LockOwner;
}

async function attempt(file: string, owner: LockOwner, depth: number): Promise<LockAttempt> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.new`);
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    // No fsync: after a power loss every owner is dead anyway, and a lock without its owner is stale.
    await fh.writeFile(`${JSON.stringify(owner)}\n`);
  } finally {
    await fh.close();
  }
  try {
    for (let tries = 0; tries < 20; tries++) {
      try {
        await link(tmp, file);
        return { lock: await heldLock(file) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const current = await readLock(file);
      if (!current) continue; // released meanwhile: try again
      if (current.owner && (await isIdentityAlive(current.owner))) return { owner: current.owner };
      if (depth >= MAX_DEPTH) break;
      // Stale: only the holder of the right to replace this very file may do it.
      const right = await attempt(`${file}.stale-${current.dev}-${current.ino}`, owner, depth + 1);
      if (!right.lock) return { owner: right.owner };
      try {
        const again = await readLock(file);
        if (again && again.dev === current.dev && again.ino === current.ino && !(again.owner && (await isIdentityAlive(again.owner)))) {
          await rename(tmp, file);
          return { lock: await heldLock(file) };
        }
      } finally {
        await right.lock.release();
      }
    }
  } finally {
    await rm(tmp, { force: true });
  }
  throw new OrchardError('LOCKED', 'cannot take the lock: it keeps changing hands', {
    where: file,
    hint: 'Another Orchard process is racing for it; try again. Remove the file only if no Orchard process runs.',
  });
}

async function heldLock(file: string): Promise<HeldLock> {
  const mine = await lstat(file);
  return {
    file,
    release: async () => {
      // Remove only our own file: a lock that is no longer ours (never while we live) stays.
      const now = await lstat(file).catch(() => undefined);
      if (now && now.dev === mine.dev && now.ino === mine.ino) await unlink(file).catch(() => undefined);
    },
  };
}

/** The lock as it is on disk, read without following a link; undefined when there is none. */
async function readLock(file: string): Promise<LockOnDisk | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // A symlink (ELOOP) or something else that cannot be opened: a lock holding no owner.
    const s = await lstat(file).catch(() => undefined);
    return s ? { dev: s.dev, ino: s.ino } : undefined;
  }
  try {
    const s = await fh.stat();
    if (!s.isFile()) return { dev: s.dev, ino: s.ino };
    const buf = Buffer.alloc(Math.min(READ_LIMIT, Math.max(0, s.size)));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const owner = parseOwner(buf.subarray(0, bytesRead).toString('utf8'));
    return { dev: s.dev, ino: s.ino, ...(owner ? { owner } : {}) };
  } finally {
    await fh.close();
  }
}

function parseOwner(text: string): LockOwner | undefined {
  const trimmed = text.trim();
  // Locks written by earlier versions held only a pid.
  if (/^\d+$/.test(trimmed)) return { pid: Number(trimmed) };
  try {
    const value = JSON.parse(trimmed) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const v = value as Record<string, unknown>;
    if (typeof v['pid'] !== 'number' || !Number.isInteger(v['pid'])) return undefined;
    if (v['start'] !== undefined && typeof v['start'] !== 'string') return undefined;
    return v as LockOwner;
  } catch {
    return undefined;
  }
}
