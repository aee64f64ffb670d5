import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { OrchardHome } from '../../core/home.js';
import { partLockOwner, tryPartLock } from './part-lock.js';
import { readPartialState, removePartial } from './partial-state.js';
import { RangeSet } from './range-set.js';

/**
 * Partial downloads in `store/tmp`: what they hold, whether a download is writing them now, and
 * removing the idle ones. An idle partial is what an interrupted install resumes from, so it is
 * only removed when the user asks (`store gc --partials`); one being written never is.
 */
export interface PartialDownload {
  file: string;
  /** The source URL from the sidecar (undefined when the sidecar is missing or unreadable). */
  url?: string;
  bytesDone: number;
  bytesTotal?: number;
  /** Space the part file takes on disk (parallel downloads leave holes until done). */
  diskBytes: number;
  /** The pid of the process downloading it now; undefined when idle. */
  activePid?: number;
}

export async function listPartialDownloads(home: OrchardHome): Promise<PartialDownload[]> {
  const names = (await readdir(home.storeTmp).catch(() => [] as string[])).filter((n) => n.endsWith('.part')).sort();
  const out: PartialDownload[] = [];
  for (const name of names) {
    const file = path.join(home.storeTmp, name);
    const info = await lstat(file).catch(() => undefined);
    if (!info) continue; // finished or removed meanwhile
    const state = await readPartialState(file);
    const activePid = await partLockOwner(file);
    out.push({
      file,
      ...(state ? { url: state.sourceUrl } : {}),
      bytesDone: state ? new RangeSet(state.done).total() : 0,
      ...(state?.validators.size !== undefined ? { bytesTotal: state.validators.size } : {}),
      diskBytes: info.blocks * 512,
      ...(activePid !== undefined ? { activePid } : {}),
    });
  }
  return out;
}

/**
 * Remove every partial download no live process is writing (its part file and sidecar). Each is
 * removed only while holding its part lock: a download that starts meanwhile either holds the lock
 * first (and its partial is kept) or waits until the removal is done (and starts from byte 0).
 */
export async function removeIdlePartials(home: OrchardHome, o: { dryRun?: boolean } = {}): Promise<PartialDownload[]> {
  const removed: PartialDownload[] = [];
  for (const p of await listPartialDownloads(home)) {
    if (p.activePid !== undefined) continue;
    if (!o.dryRun) {
      const lock = await tryPartLock(p.file);
      if (!lock) continue; // a download took it since it was listed
      try {
        await removePartial(p.file);
      } finally {
        await lock.release();
      }
    }
    removed.push(p);
  }
  return removed;
}
