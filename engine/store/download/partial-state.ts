import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ByteRange } from './range-set.js';
import { createNewFile, HostileFileError, openOwnedFile, removeName } from '../safe-file.js';

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

/** A sidecar is small; anything bigger is not one of ours. */
const SIDECAR_LIMIT = 1024 * 1024;

/**
 * The sidecar, read without following a link and only when it is a regular file of ours with one
 * name, whose content has the shape Orchard writes (ranges ordered, inside the recorded size).
 * Anything else — missing, planted, forged, half-written — is undefined: the bytes cannot be
 * trusted, the download starts over. `onReject` hears why a sidecar that exists was refused.
 */
export async function readPartialState(partFile: string, onReject?: (why: string) => void): Promise<PartialState | undefined> {
  const file = sidecarPath(partFile);
  let text: string;
  try {
    const fh = await openOwnedFile(file, false);
    try {
      const size = (await fh.stat()).size;
      if (size > SIDECAR_LIMIT) throw new HostileFileError(file, `it is ${size} bytes, too big for a sidecar`);
      text = await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (err instanceof HostileFileError) onReject?.(`the sidecar is refused: ${err.reason}`);
    else if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onReject?.(`the sidecar cannot be read: ${(err as Error).message}`);
    return undefined;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    onReject?.('the sidecar is not valid JSON');
    return undefined;
  }
  const problem = sidecarProblem(value);
  if (problem) {
    onReject?.(`the sidecar is refused: ${problem}`);
    return undefined;
  }
  return value as PartialState;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** What is wrong with a parsed sidecar, or undefined when it is consistent. */
function sidecarProblem(value: unknown): string | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'not an object';
  const v = value as Record<string, unknown>;
  if (v['version'] !== 1) return 'unknown version';
  if (typeof v['sourceUrl'] !== 'string' || typeof v['finalUrl'] !== 'string') return 'no source URL';
  const val = v['validators'];
  if (!val || typeof val !== 'object' || Array.isArray(val)) return 'no validators';
  const validators = val as Record<string, unknown>;
  for (const k of ['size', 'linkedSize']) if (validators[k] !== undefined && !isCount(validators[k])) return `validator ${k} is not a size`;
  for (const k of ['etag', 'lastModified', 'linkedEtag']) {
    if (validators[k] !== undefined && typeof validators[k] !== 'string') return `validator ${k} is not text`;
  }
  const expected = v['expectedSha256'];
  const shaOk = expected === undefined || (typeof expected === 'string' && /^[0-9a-f]{64}$/.test(expected));
  if (!shaOk) return 'the expected sha256 is not a sha256';
  if (typeof v['sequential'] !== 'boolean' || !isCount(v['hashedThrough'])) return 'malformed';
  const done = v['done'];
  if (!Array.isArray(done)) return 'no byte ranges';
  const size = validators['size'] as number | undefined;
  let last = -1;
  for (const r of done as unknown[]) {
    if (!Array.isArray(r) || r.length !== 2 || !isCount(r[0]) || !isCount(r[1]) || r[0] >= r[1]) return 'a byte range is malformed';
    if (r[0] < last) return 'byte ranges overlap or are out of order';
    if (size !== undefined && r[1] > size) return `a byte range (${r[0]}-${r[1]}) lies beyond the file's size (${size})`;
    last = r[1];
  }
  return undefined;
}

/**
 * Atomic (temp file + rename, like core/atomic-write) but without fsync: on ext4 (data=ordered)
 * an fsync here also flushes the part file's dirty data, which stalls the sidecar for seconds
 * while gigabytes stream in — and a SIGKILL never loses page-cache writes anyway. After a power
 * loss the sidecar may claim bytes that never reached the disk: the final sha256 check catches it.
 * The temp file is created new (O_EXCL, no link followed), and rename replaces the sidecar's name
 * itself, whatever was planted there.
 */
export async function writePartialState(partFile: string, state: PartialState): Promise<void> {
  const file = sidecarPath(partFile);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await createNewFile(tmp, 0o600);
  try {
    await fh.writeFile(`${JSON.stringify({ ...state, updatedAt: new Date().toISOString() })}\n`);
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Remove a partial download's names (never what a planted symlink points at). */
export async function removePartial(partFile: string): Promise<void> {
  await removeName(partFile);
  await removeName(sidecarPath(partFile));
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
