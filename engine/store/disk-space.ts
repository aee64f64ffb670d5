import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { OrchardError } from '../core/errors.js';
import { formatBytes } from '../../shared/format-bytes.js';

/** Free bytes on the filesystem holding `dir`. Injectable so tests can force a refusal. */
export type FreeSpaceSource = (dir: string) => Promise<number>;

export const statfsFreeSpace: FreeSpaceSource = async (dir) => {
  let at = path.resolve(dir);
  for (;;) {
    try {
      const s = await statfs(at);
      return Number(s.bavail) * Number(s.bsize);
    } catch (err) {
      const up = path.dirname(at);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || up === at) throw err;
      at = up; // the store may not exist yet: ask its nearest existing ancestor
    }
  }
};

/** Headroom kept free beyond the missing bytes: 256 MiB or 2 %, whichever is larger. */
export function diskMargin(missingBytes: number): number {
  return Math.max(256 * 2 ** 20, Math.ceil(missingBytes * 0.02));
}

export { formatBytes };

/** Refuse before any byte is written when the store's filesystem cannot hold what is missing. */
export async function preflightDiskSpace(
  dir: string,
  missingBytes: number,
  o: { freeSpace?: FreeSpaceSource; what?: string } = {},
): Promise<void> {
  if (missingBytes <= 0) return;
  const free = await (o.freeSpace ?? statfsFreeSpace)(dir);
  const margin = diskMargin(missingBytes);
  if (free >= missingBytes + margin) return;
  throw new OrchardError(
    'DISK_SPACE',
    `not enough free disk space for ${o.what ?? 'the download'}: ${formatBytes(missingBytes)} still to download + ` +
      `${formatBytes(margin)} margin = ${formatBytes(missingBytes + margin)} needed, ${formatBytes(free)} free`,
    {
      where: dir,
      hint:
        `Free at least ${formatBytes(missingBytes + margin - free)} on that disk (\`orchard store gc\` removes models no app ` +
        'uses), or point ORCHARD_HOME at a bigger disk.',
    },
  );
}
