import { constants, type BigIntStats } from 'node:fs';
import { lstat, open, readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../core/atomic-write.js';
import { OrchardError } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';
import { ensureRealDir, HostileFileError, openOwnedFile, removeName, untrustedReason } from './safe-file.js';

/**
 * The content-addressed store: `store/blobs/sha256/<hex>`, each file named by its own sha256,
 * read-only once it is there. Only verified files are moved in, by an atomic rename.
 *
 * The store is not trusted blindly: an app with a hardlink to a blob, or anything else that can
 * write there, could change a blob's bytes. Each blob has a record (`store/meta/sha256/<hex>.json`)
 * of its size, inode, mtime and ctime (nanoseconds) taken when its content was hashed, plus the
 * URLs it came from. A blob is reused only when that record proves it unchanged since, or after
 * it hashes again to its name; one that does not is removed and fetched again. Nothing in the
 * store is ever followed through a symlink.
 */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

export function blobPath(home: OrchardHome, sha256: string): string {
  const hex = sha256.toLowerCase();
  if (!SHA256_HEX.test(hex)) {
    throw new OrchardError('INTEGRITY', `not a sha256: "${sha256}"`, { hint: 'A sha256 is 64 hexadecimal characters.' });
  }
  return path.join(home.blobs, hex);
}

/** Where a blob's record lives: beside the blobs, never inside them (an app's links reach only blobs). */
export function blobRecordPath(home: OrchardHome, sha256: string): string {
  return path.join(home.store, 'meta', 'sha256', `${path.basename(blobPath(home, sha256))}.json`);
}

export interface BlobInfo {
  sha256: string;
  size: number;
  path: string;
  modifiedAt: string;
}

/** Where a blob can be fetched again (what `store verify --repair` uses). */
export interface BlobSource {
  url: string;
  mirrors?: string[];
  auth?: 'huggingface';
  gatedPage?: string;
}

export interface BlobRecord {
  version: 1;
  sha256: string;
  size: number;
  dev: string;
  ino: string;
  mtimeNs: string;
  ctimeNs: string;
  hashedAt: string;
  sources: BlobSource[];
}

/** The blob when it exists as a regular file (and, when a size is given, has that size). Its content is not checked. */
export async function findBlob(home: OrchardHome, sha256: string, size?: number): Promise<BlobInfo | undefined> {
  const file = blobPath(home, sha256);
  const s = await lstat(file).catch(() => undefined);
  if (!s || !s.isFile() || (size !== undefined && s.size !== size)) return undefined;
  return { sha256: sha256.toLowerCase(), size: s.size, path: file, modifiedAt: s.mtime.toISOString() };
}

export async function listBlobs(home: OrchardHome): Promise<BlobInfo[]> {
  let names: string[];
  try {
    names = await readdir(home.blobs);
  } catch {
    return [];
  }
  const blobs: BlobInfo[] = [];
  for (const name of names.sort()) {
    if (!SHA256_HEX.test(name)) continue;
    const info = await findBlob(home, name);
    if (info) blobs.push(info);
  }
  return blobs;
}

export async function readBlobRecord(home: OrchardHome, sha256: string): Promise<BlobRecord | undefined> {
  try {
    const fh = await openOwnedFile(blobRecordPath(home, sha256), false);
    try {
      const value = JSON.parse(await fh.readFile('utf8')) as Partial<BlobRecord>;
      if (value.version !== 1 || value.sha256 !== sha256.toLowerCase()) return undefined;
      if (typeof value.ino !== 'string' || typeof value.ctimeNs !== 'string') return undefined;
      const sources = Array.isArray(value.sources) ? value.sources.filter((x) => typeof x?.url === 'string') : [];
      return { ...(value as BlobRecord), sources };
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}

function unchanged(record: BlobRecord, s: BigIntStats): boolean {
  return (
    record.size === Number(s.size) &&
    record.dev === String(s.dev) &&
    record.ino === String(s.ino) &&
    record.mtimeNs === String(s.mtimeNs) &&
    record.ctimeNs === String(s.ctimeNs)
  );
}

/** Record that the blob, as it is now on disk, was hashed: its size, inode and times, and its sources. */
export async function writeBlobRecord(home: OrchardHome, sha256: string, s: BigIntStats, sources: BlobSource[]): Promise<void> {
  const hex = sha256.toLowerCase();
  const record: BlobRecord = {
    version: 1,
    sha256: hex,
    size: Number(s.size),
    dev: String(s.dev),
    ino: String(s.ino),
    mtimeNs: String(s.mtimeNs),
    ctimeNs: String(s.ctimeNs),
    hashedAt: new Date().toISOString(),
    sources,
  };
  await ensureRealDir(home.store, path.dirname(blobRecordPath(home, hex)));
  await writeFileAtomic(blobRecordPath(home, hex), `${JSON.stringify(record, null, 2)}\n`);
}

/** Add where a blob came from to its record (kept for `store verify --repair`). */
export async function addBlobSource(home: OrchardHome, sha256: string, source: BlobSource): Promise<void> {
  const record = await readBlobRecord(home, sha256);
  if (!record || record.sources.some((x) => x.url === source.url)) return;
  const s = await lstat(blobPath(home, sha256), { bigint: true }).catch(() => undefined);
  if (!s || !unchanged(record, s)) return;
  await writeBlobRecord(home, sha256, s, [...record.sources, source]);
}

export type BlobCondition =
  | { state: 'ok'; blob: BlobInfo; rehashed: boolean }
  | { state: 'missing' }
  | { state: 'corrupt'; why: string }
  /** Only with `proofOnly`: no record proves it, and it was not hashed. */
  | { state: 'unproven' };

/**
 * Is the blob there and still the content of its name? Proven by its record when size, inode,
 * mtime and ctime are unchanged since it was hashed; otherwise hashed again (and re-recorded when
 * it matches). `force` always hashes; `proofOnly` never does (the caller hashes later, under the
 * part lock, where a blob being committed right now already has its record).
 */
export async function checkBlob(
  home: OrchardHome,
  sha256: string,
  o: { size?: number | undefined; force?: boolean; proofOnly?: boolean; signal?: AbortSignal | undefined } = {},
): Promise<BlobCondition> {
  const hex = sha256.toLowerCase();
  const file = blobPath(home, hex);
  const s = await lstat(file, { bigint: true }).catch(() => undefined);
  if (!s) return { state: 'missing' };
  // Hardlinks are how apps see their models: more names are expected, any other oddity is not.
  const reason = untrustedReason(s, { allowLinks: true });
  if (reason) return { state: 'corrupt', why: reason };
  if (o.size !== undefined && Number(s.size) !== o.size) return { state: 'corrupt', why: `it is ${s.size} bytes, not ${o.size}` };
  const info = { sha256: hex, size: Number(s.size), path: file, modifiedAt: new Date(Number(s.mtimeMs)).toISOString() };
  const record = await readBlobRecord(home, hex);
  if (!o.force && record && unchanged(record, s)) return { state: 'ok', blob: info, rehashed: false };
  if (o.proofOnly) return { state: 'unproven' };
  const actual = await hashBlob(file, s, o.signal);
  if (actual.changed) return { state: 'corrupt', why: 'it changed while it was being hashed' };
  if (actual.sha256 !== hex) return { state: 'corrupt', why: `its content hashes to ${actual.sha256}` };
  await writeBlobRecord(home, hex, s, record?.sources ?? []);
  return { state: 'ok', blob: info, rehashed: true };
}

/** Hash a blob through one descriptor opened without following links; says whether it changed meanwhile. */
async function hashBlob(file: string, before: BigIntStats, signal?: AbortSignal): Promise<{ sha256: string; changed: boolean }> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const hash = createHash('sha256');
    const stream = fh.createReadStream({ highWaterMark: 4 * 2 ** 20, autoClose: false, ...(signal ? { signal } : {}) });
    for await (const chunk of stream) hash.update(chunk as Buffer);
    const after = await fh.stat({ bigint: true });
    const changed =
      after.ino !== before.ino || after.size !== before.size || after.mtimeNs !== before.mtimeNs || after.ctimeNs !== before.ctimeNs;
    return { sha256: hash.digest('hex'), changed };
  } finally {
    await fh.close();
  }
}

/**
 * The blob, when it is there and provably its name's content; a blob that is not (changed since
 * it was hashed, or a planted link) is removed from the store so that it is fetched again. With
 * `proofOnly`, a blob its record does not prove is only not returned (neither hashed nor removed).
 */
export async function findVerifiedBlob(
  home: OrchardHome,
  sha256: string,
  o: { size?: number | undefined; log?: ((line: string) => void) | undefined; signal?: AbortSignal | undefined; proofOnly?: boolean } = {},
): Promise<BlobInfo | undefined> {
  const check = await checkBlob(home, sha256, { size: o.size, signal: o.signal, ...(o.proofOnly ? { proofOnly: true } : {}) });
  if (check.state === 'unproven') return undefined;
  if (check.state === 'ok') {
    if (check.rehashed) o.log?.(`${sha256}: hashed again before reuse (no record proved it unchanged); it matches`);
    return check.blob;
  }
  if (check.state === 'corrupt') {
    o.log?.(`the stored blob ${sha256} is corrupt (${check.why}): removed from the store, it is downloaded again`);
    await removeBlob(home, sha256);
  }
  return undefined;
}

/** Remove a blob's name and its record. */
export async function removeBlob(home: OrchardHome, sha256: string): Promise<void> {
  await removeName(blobPath(home, sha256));
  await removeName(blobRecordPath(home, sha256));
}

/**
 * Move a verified file into the store under its hash: read-only, atomic, recorded. `identity` is
 * the file that was written and hashed: it is first renamed to a private name and checked to be
 * that very file (a regular file of ours with one name), so a name swapped on disk meanwhile never
 * enters the store. If a sound blob is already there (another app fetched it), the copy is dropped.
 */
export async function commitBlob(
  home: OrchardHome,
  verifiedFile: string,
  sha256: string,
  o: { identity?: { dev: number; ino: number }; sources?: BlobSource[] } = {},
): Promise<string> {
  const target = blobPath(home, sha256);
  await ensureRealDir(home.store, home.blobs);
  const staged = path.join(path.dirname(verifiedFile), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.commit`);
  await rename(verifiedFile, staged);
  try {
    const fh = await openOwnedFile(staged, false).catch((err: unknown) => {
      if (err instanceof HostileFileError) throw replaced(verifiedFile, err.reason);
      throw err;
    });
    try {
      const s = await fh.stat();
      if (o.identity && (s.dev !== o.identity.dev || s.ino !== o.identity.ino)) {
        throw replaced(verifiedFile, 'it is not the file that was downloaded');
      }
      const existing = await checkBlob(home, sha256, { size: s.size });
      if (existing.state === 'ok') {
        await addBlobSources(home, sha256, o.sources ?? []);
        return target;
      }
      await fh.chmod(0o444);
    } finally {
      await fh.close();
    }
    await rename(staged, target);
  } finally {
    await removeName(staged);
  }
  const now = await lstat(target, { bigint: true });
  if (o.identity && (Number(now.dev) !== o.identity.dev || Number(now.ino) !== o.identity.ino)) {
    await removeName(target);
    throw replaced(verifiedFile, 'the blob was swapped as it entered the store');
  }
  await writeBlobRecord(home, sha256, now, o.sources ?? []);
  return target;
}

async function addBlobSources(home: OrchardHome, sha256: string, sources: BlobSource[]): Promise<void> {
  for (const source of sources) await addBlobSource(home, sha256, source);
}

function replaced(file: string, why: string): OrchardError {
  const message = `the downloaded file was replaced on disk before it entered the store (${why}); nothing was stored`;
  return new OrchardError('INTEGRITY', message, {
    where: file,
    hint: 'Something else writes into the store folder. Run the command again: the download starts over.',
  });
}

export async function sha256OfFile(file: string, signal?: AbortSignal): Promise<string> {
  const s = await lstat(file, { bigint: true });
  return (await hashBlob(file, s, signal)).sha256;
}
