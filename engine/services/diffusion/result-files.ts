import path from 'node:path';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { fileStamp } from '../../core/file-stamp.js';
import type { JobKind } from './diffusion-engine.js';

/**
 * Finished images and videos are files, not only memory: a 20-minute render must survive the
 * service restarting, and fifty kept videos must not sit in RAM. Where they go: --outputs, else,
 * when the service runs as an installed app (the sandbox sets ORCHARD_APP_ROOT), the app's own
 * `outputs/` folder (AppPaths.outputs, which uninstall keeps); else nowhere, and results live in memory only as before.
 */
export function outputsDir(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag) return path.resolve(flag);
  const appRoot = env['ORCHARD_APP_ROOT'];
  return appRoot ? path.join(appRoot, 'outputs') : undefined;
}

/** `<dir>/<UTC time>-<kind>-<job id>.<ext>`, sortable by time, written whole or not at all. */
export async function saveResult(dir: string, job: { id: string; kind: JobKind; finishedAt: Date }, media: { extension: string; bytes: Buffer }): Promise<string> {
  const file = path.join(dir, `${fileStamp(job.finishedAt)}-${job.kind}-${job.id}.${media.extension}`);
  await writeFileAtomic(file, media.bytes);
  return file;
}
