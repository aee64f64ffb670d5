import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { OrchardError } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';
import { blobPath, listBlobs } from './blob-store.js';

export type LinkMethod = 'hardlink' | 'symlink' | 'already-linked';

/**
 * Make a store blob appear at `to`: a hardlink when the store and the app share a filesystem
 * (the app sees a plain file), else a symlink. What is already at `to` is replaced only when it is
 * Orchard's own link (a symlink, or a hardlink of a store blob); a real file is never deleted or
 * moved — that is an error naming the file.
 */
export async function linkBlob(
  home: OrchardHome,
  sha256: string,
  to: string,
  o: { where?: string } = {},
): Promise<{ method: LinkMethod; blob: string }> {
  const blob = blobPath(home, sha256);
  // Never through a link: a blob is a regular file in the store, or it is not there.
  const blobStat = await lstat(blob).catch(() => undefined);
  if (!blobStat?.isFile()) {
    throw new OrchardError('IO', `the model blob ${sha256} is not in the store`, {
      where: o.where ?? blob,
      hint: 'Run the fetch step first (run install again), or `orchard store ls` to see what the store holds.',
    });
  }
  await mkdir(path.dirname(to), { recursive: true });
  const current = await lstat(to).catch(() => undefined);
  if (current) {
    if (current.isSymbolicLink()) {
      const target = path.resolve(path.dirname(to), await readlink(to));
      if (target === blob) return { method: 'already-linked', blob };
    } else if (current.isFile() && current.dev === blobStat.dev && current.ino === blobStat.ino) {
      return { method: 'already-linked', blob };
    } else if (!(current.isFile() && (await isStoreHardlink(home, current)))) {
      throw new OrchardError(
        'IO',
        `a ${current.isDirectory() ? 'folder' : 'file'} that Orchard did not create is in the way of the model link: ${to}`,
        {
          where: o.where ?? to,
          hint: `Orchard never deletes or moves your files. Move or delete ${to} yourself, then run install again.`,
        },
      );
    }
  }
  // Build the link under a temp name and rename it over the old link: never a moment without one.
  const tmp = path.join(path.dirname(to), `.${path.basename(to)}.${randomBytes(4).toString('hex')}.link`);
  let method: LinkMethod = 'hardlink';
  try {
    await link(blob, tmp);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'EMLINK' && code !== 'ENOTSUP') throw err;
    method = 'symlink';
    await symlink(blob, tmp);
  }
  try {
    await rename(tmp, to);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { method, blob };
}

async function isStoreHardlink(home: OrchardHome, s: { dev: number; ino: number; nlink: number }): Promise<boolean> {
  if (s.nlink < 2) return false;
  for (const b of await listBlobs(home)) {
    const bs = await lstat(b.path).catch(() => undefined);
    if (bs && bs.dev === s.dev && bs.ino === s.ino) return true;
  }
  return false;
}
