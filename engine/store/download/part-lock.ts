import { open, readFile, rm } from 'node:fs/promises';
import { OrchardError } from '../../core/errors.js';
import { isProcessAlive } from '../../core/process-alive.js';

/**
 * One writer per part file across processes: `<part>.lock` holds the writer's pid. A lock whose
 * process is gone (killed mid-download) is stale and taken over.
 */
export async function acquirePartLock(partFile: string): Promise<() => Promise<void>> {
  const lock = `${partFile}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return async () => {
        await rm(lock, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isProcessAlive(pid)) {
        throw new OrchardError('LOCKED', `another Orchard process (pid ${pid}) is downloading this file`, {
          where: partFile,
          hint: 'Wait for it to finish, or stop it; the download resumes from where it is.',
        });
      }
      if (pid === process.pid) {
        throw new OrchardError('LOCKED', 'this file is already being downloaded by this process', { where: partFile, hint: 'Wait for the other download to finish.' });
      }
      await rm(lock, { force: true });
    }
  }
  throw new OrchardError('LOCKED', 'cannot take the download lock', { where: lock, hint: 'Remove the .lock file if no Orchard process is running.' });
}


/** The live process downloading into this part file now, if any (a dead owner's lock does not count). */
export async function partLockOwner(partFile: string): Promise<number | undefined> {
  const pid = Number((await readFile(`${partFile}.lock`, 'utf8').catch(() => '')).trim());
  return Number.isInteger(pid) && pid > 0 && isProcessAlive(pid) ? pid : undefined;
}
