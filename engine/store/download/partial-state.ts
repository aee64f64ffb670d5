import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ByteRange } from './range-set.js';

/**
 * The sidecar of a partial download (`<part>.json`): which remote file the bytes came from and
 * which byte ranges are on disk. A resume only reuses the bytes when the remote still answers with
 * the same validators, so a file is never stitched together from two versions.
 */
export interface RemoteValidators {
  size?: number;
  etag?: string;
  lastModified?: string;
  /** Hugging Face LFS: the sha256 of the file (`X-Linked-Etag`) and its size (`X-Linked-Size`). */
  linkedEtag?: string;
  linkedSize?: number;
}

export interface PartialState {
  version: 1;
  /** The URL the user or recipe gave (redirect targets are re-resolved from it on resume). */
  sourceUrl: string;
  /** Where the bytes were last served from (a CDN redirect target; its query is dropped). */
  finalUrl: string;
  validators: RemoteValidators;
  expectedSha256?: string;
  /** Byte ranges written to the part file. */
  done: ByteRange[];
  /** True when the bytes arrived in order from byte 0 (one stream): the hash can be recomputed from the prefix. */
  sequential: boolean;
  /** Bytes of the prefix already hashed in order when this was written (the hash itself is recomputed from disk on resume). */
  hashedThrough: number;
  updatedAt: string;
}

export function sidecarPath(partFile: string): string {
  return `${partFile}.json`;
}

export async function readPartialState(partFile: string): Promise<PartialState | undefined> {
  try {
    const value = JSON.parse(await readFile(sidecarPath(partFile), 'utf8')) as Partial<PartialState>;
    if (value.version !== 1 || !Array.isArray(value.done) || typeof value.sourceUrl !== 'string') return undefined;
    return value as PartialState;
  } catch {
    // Missing or unreadable sidecar: the bytes cannot be trusted, start over.
    return undefined;
  }
}

/**
 * Atomic (temp file + rename, like core/atomic-write) but without fsync: on ext4 (data=ordered)
 * an fsync here also flushes the part file's dirty data, which stalls the sidecar for seconds
 * while gigabytes stream in — and a SIGKILL never loses page-cache writes anyway. After a power
 * loss the sidecar may claim bytes that never reached the disk: the final sha256 check catches it.
 */
export async function writePartialState(partFile: string, state: PartialState): Promise<void> {
  const file = sidecarPath(partFile);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(tmp, `${JSON.stringify({ ...state, updatedAt: new Date().toISOString() })}\n`);
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function removePartial(partFile: string): Promise<void> {
  await rm(partFile, { force: true });
  await rm(sidecarPath(partFile), { force: true });
}

/**
 * Same remote version? Size must match; then the strongest validator both sides have decides.
 * With no validator at all, only a pinned sha256 (checked at the end) makes reuse safe.
 */
export function sameRemoteVersion(a: RemoteValidators, b: RemoteValidators, pinnedSha256: boolean): boolean {
  if (a.size === undefined || a.size !== b.size) return false;
  if (a.linkedEtag !== undefined && b.linkedEtag !== undefined) return a.linkedEtag === b.linkedEtag;
  if (a.etag !== undefined && b.etag !== undefined) return a.etag === b.etag;
  if (a.lastModified !== undefined && b.lastModified !== undefined) return a.lastModified === b.lastModified;
  const anyValidator = [a.etag, a.lastModified, a.linkedEtag, b.etag, b.lastModified, b.linkedEtag].some((v) => v !== undefined);
  return !anyValidator && pinnedSha256;
}
