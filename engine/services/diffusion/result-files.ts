import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../../core/atomic-write.js';
import { fileStamp } from '../../core/file-stamp.js';
import { resolveHome } from '../../core/home.js';
import { findTooDeep } from '../../core/json-depth.js';
import type { JobKind, JobSnapshot } from './diffusion-engine.js';

/**
 * Finished images and videos are files, never memory: a 20-minute render must survive the service
 * restarting, and kept videos must not sit in RAM. Where they go: --outputs, else, when the service
 * runs as an installed app (the sandbox sets ORCHARD_APP_ROOT), the app's own `outputs/` folder
 * (AppPaths.outputs, which uninstall keeps); else ORCHARD_HOME/service-outputs/<media>.
 */
export function outputsDir(flag: string | undefined, env: NodeJS.ProcessEnv, media: 'image' | 'video' = 'image'): string {
  if (flag) return path.resolve(flag);
  const appRoot = env['ORCHARD_APP_ROOT'];
  return appRoot ? path.join(appRoot, 'outputs') : path.join(resolveHome(env).root, 'service-outputs', media);
}

/** Each finished job's snapshot (metadata only), so a restarted service still lists it: `<outputs>/.orchard-jobs/<id>.json`. */
const JOBS_DIR = '.orchard-jobs';
const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export async function saveJobRecord(dir: string, job: JobSnapshot): Promise<void> {
  if (!JOB_ID.test(job.id)) return;
  await writeJsonAtomic(path.join(dir, JOBS_DIR, `${job.id}.json`), job);
}

/** The saved jobs, newest first (at most `limit`); unreadable or foreign files are skipped. */
export async function loadJobRecords(dir: string, limit: number): Promise<JobSnapshot[]> {
  const folder = path.join(dir, JOBS_DIR);
  const names = (await readdir(folder).catch(() => [] as string[])).filter(
    (n) => JOB_ID.test(n.replace(/\.json$/, '')) && n.endsWith('.json'),
  );
  const jobs: JobSnapshot[] = [];
  for (const name of names) {
    const text = await readFile(path.join(folder, name), 'utf8').catch(() => undefined);
    if (text === undefined || text.length > 1024 * 1024 || findTooDeep(text)) continue;
    try {
      const job = JSON.parse(text) as JobSnapshot;
      if (job.id === name.replace(/\.json$/, '') && typeof job.createdAt === 'string' && typeof job.state === 'string') jobs.push(job);
    } catch {
      // Not a job record.
    }
  }
  return jobs.sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, limit);
}

/** `<dir>/<UTC time>-<kind>-<job id>.<ext>`, sortable by time, written whole or not at all. */
export async function saveResult(
  dir: string,
  job: { id: string; kind: JobKind; finishedAt: Date },
  media: { extension: string; bytes: Buffer },
): Promise<string> {
  const file = path.join(dir, `${fileStamp(job.finishedAt)}-${job.kind}-${job.id}.${media.extension}`);
  await writeFileAtomic(file, media.bytes);
  return file;
}
