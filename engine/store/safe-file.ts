import { constants, type BigIntStats, type Stats } from 'node:fs';
import { lstat, mkdir, open, rm, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { OrchardError } from '../core/errors.js';

/**
 * The store treats the disk as hostile: anything under store/ (or beside a `fetch -o` output) may
 * have been planted by another process — a symlink to a file elsewhere, a hardlink of someone
 * else's file, a FIFO, a file of another user. These helpers never follow a link at the last
 * component and accept only a regular file, owned by this user, with one name.
 */
export class HostileFileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** Why a file is not one of ours to write or trust (undefined when it is). */
export function untrustedReason(s: Stats | BigIntStats, o: { allowLinks?: boolean } = {}): string | undefined {
  if (s.isSymbolicLink()) return 'it is a symbolic link';
  if (!s.isFile()) return 'it is not a regular file';
  const uid = process.getuid?.();
  if (uid !== undefined && Number(s.uid) !== uid) return `it belongs to another user (uid ${s.uid})`;
  if (!o.allowLinks && Number(s.nlink) !== 1) return `it has ${s.nlink} names (a hardlink)`;
  return undefined;
}

/**
 * Open an existing file without following a symlink (O_NOFOLLOW) and without blocking on a FIFO
 * (O_NONBLOCK), then check the opened file itself (fstat): regular, ours, one link. Anything else
 * is a HostileFileError and the descriptor is closed; ENOENT is passed through.
 */
export async function openOwnedFile(file: string, write: boolean): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(file, (write ? constants.O_RDWR : constants.O_RDONLY) | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'EMLINK') throw new HostileFileError(file, 'it is a symbolic link');
    if (code === 'ENXIO' || code === 'EISDIR') throw new HostileFileError(file, 'it is not a regular file');
    throw err;
  }
  const reason = untrustedReason(await fh.stat());
  if (reason) {
    await fh.close();
    throw new HostileFileError(file, reason);
  }
  return fh;
}

/** Create a new file that cannot exist before (O_EXCL: a planted name, symlink included, fails with EEXIST). */
export async function createNewFile(file: string, mode = 0o600): Promise<FileHandle> {
  return open(file, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
}

/** Remove a name (a file, a symlink itself — never its target — or a planted folder); missing is fine. */
export async function removeName(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'EISDIR' || code === 'EPERM') {
      const s = await lstat(file).catch(() => undefined);
      if (s?.isDirectory()) return rm(file, { recursive: true, force: true });
    }
    throw err;
  }
}

/**
 * Make `dir` (and the folders between `root` and it) real folders: a symlink at any of them would
 * send store writes elsewhere. A symlink where a folder of ours belongs is an error naming it.
 */
export async function ensureRealDir(root: string, dir: string): Promise<void> {
  const rel = path.relative(root, dir);
  if (rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`${dir} is not inside ${root}`);
  await mkdir(root, { recursive: true });
  let at = root;
  for (const part of rel === '' ? [] : rel.split(path.sep)) {
    at = path.join(at, part);
    await mkdir(at).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    const s = await lstat(at);
    if (!s.isDirectory()) {
      const what = s.isSymbolicLink() ? 'a symbolic link' : 'a file';
      throw new OrchardError('IO', `${at} should be a folder of Orchard's store but is ${what}`, {
        where: at,
        hint: 'Something other than Orchard changed the store. Remove that entry (Orchard recreates the folder) and run the command again.',
      });
    }
  }
}
