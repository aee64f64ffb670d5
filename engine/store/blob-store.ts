import { createReadStream } from 'node:fs';
import { chmod, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { OrchardError } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';

/**
 * The content-addressed store: `store/blobs/sha256/<hex>`, each file named by its own sha256,
 * read-only once it is there. Only verified files are moved in, by an atomic rename.
 */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

export function blobPath(home: OrchardHome, sha256: string): string {
  const hex = sha256.toLowerCase();
  if (!SHA256_HEX.test(hex)) {
    throw new OrchardError('INTEGRITY', `not a sha256: "${sha256}"`, { hint: 'A sha256 is 64 hexadecimal characters.' });
  }
  return path.join(home.blobs, hex);
}

export interface BlobInfo {
  sha256: string;
  size: number;
  path: string;
  modifiedAt: string;
}

/** The blob when it exists (and, when a size is given, has that size). */
export async function findBlob(home: OrchardHome, sha256: string, size?: number): Promise<BlobInfo | undefined> {
  const file = blobPath(home, sha256);
  try {
    const s = await stat(file);
    if (!s.isFile() || (size !== undefined && s.size !== size)) return undefined;
    return { sha256: sha256.toLowerCase(), size: s.size, path: file, modifiedAt: s.mtime.toISOString() };
  } catch {
    return undefined;
  }
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

/**
 * Move a verified file into the store under its hash: read-only, atomic. If the blob is already
 * there (another app fetched it meanwhile), the new copy is dropped.
 */
export async function commitBlob(home: OrchardHome, verifiedFile: string, sha256: string): Promise<string> {
  const target = blobPath(home, sha256);
  await mkdir(home.blobs, { recursive: true });
  if (await findBlob(home, sha256)) {
    await rm(verifiedFile, { force: true });
    return target;
  }
  await chmod(verifiedFile, 0o444);
  await rename(verifiedFile, target);
  return target;
}

export async function sha256OfFile(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file, { highWaterMark: 4 * 2 ** 20 }), hash, signal ? { signal } : {});
  return hash.digest('hex');
}
