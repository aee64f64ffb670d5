import { createHash } from 'node:crypto';
import path from 'node:path';
import { OrchardError } from '../../core/errors.js';
import { ignoreEvents, type Emit } from '../../core/events.js';
import type { OrchardHome } from '../../core/home.js';
import { addBlobSource, commitBlob, findVerifiedBlob, type BlobSource } from '../blob-store.js';
import { preflightDiskSpace, statfsFreeSpace, type FreeSpaceSource } from '../disk-space.js';
import { downloadFile, type Integrity } from './download.js';
import { DownloadProgress } from './download-progress.js';
import { downloadQueue } from './download-queue.js';
import { displayUrl } from '../../core/hub-auth.js';
import { acquirePartLock } from './part-lock.js';
import { removePartial } from './partial-state.js';
import { ensureRealDir } from '../safe-file.js';

/** What the store needs to know about a weight (a ResolvedWeight fits). */
export interface WeightSource {
  id: string;
  url: string;
  mirrors?: readonly string[];
  sha256?: string | undefined;
  size?: number | undefined;
  gatedPage?: string | undefined;
  /** 'huggingface': the weight is gated and the token may be sent (to the hub's hosts, over https). */
  auth?: 'huggingface' | undefined;
}

export interface FetchToStoreOptions {
  home: OrchardHome;
  weight: WeightSource;
  /** Hugging Face token; sent only for a weight marked `auth`, only over https to hub hosts. */
  token?: string | undefined;
  hubHosts?: readonly string[];
  connections?: number;
  signal?: AbortSignal | undefined;
  emit?: Emit;
  /** App id put on progress events. */
  app?: string;
  log?: (line: string) => void;
  freeSpace?: FreeSpaceSource;
  stallMs?: number;
  maxRetries?: number;
  retryBaseMs?: number;
}

export interface StoredWeight {
  sha256: string;
  size: number;
  /** The blob: store/blobs/sha256/<hex>. */
  path: string;
  url: string;
  integrity: Integrity | 'stored';
  /** False when the blob was already in the store. */
  downloaded: boolean;
  reusedBytes: number;
}

let processFreeSpace: FreeSpaceSource = statfsFreeSpace;

/** Replace how free space is measured for this process (tests force a refusal this way). */
export function setFreeSpaceSource(source: FreeSpaceSource | undefined): void {
  processFreeSpace = source ?? statfsFreeSpace;
}

export function freeSpaceSource(): FreeSpaceSource {
  return processFreeSpace;
}

const inFlight = new Map<string, Promise<StoredWeight>>();

/** The part file of a weight: named by its pinned hash, else by its URL. */
export function partFileFor(home: OrchardHome, weight: WeightSource): string {
  const key = weight.sha256 ? weight.sha256.toLowerCase() : `url-${createHash('sha256').update(weight.url).digest('hex').slice(0, 32)}`;
  return path.join(home.storeTmp, `${key}.part`);
}

/**
 * Put one weight into the store (download, verify, commit) unless a blob with its pinned hash is
 * already there. Concurrent calls for the same file in this process share one download; files
 * wait their turn in the process-wide download queue.
 */
export async function fetchToStore(o: FetchToStoreOptions): Promise<StoredWeight> {
  await ensureRealDir(o.home.store, o.home.storeTmp);
  await ensureRealDir(o.home.store, o.home.blobs);
  // Without the part lock only a blob its record proves is taken; anything else is looked at again
  // under the lock (a blob being committed right now is there before its record is).
  const existing = await alreadyStored(o, true);
  if (existing) return existing;
  const part = partFileFor(o.home, o.weight);
  const running = inFlight.get(part);
  if (running) return running;
  const task = downloadQueue()
    .add(async () => (await alreadyStored(o, true)) ?? (await lockedDownload(o, part)), { throwOnTimeout: true })
    .finally(() => inFlight.delete(part));
  inFlight.set(part, task);
  return task;
}

async function alreadyStored(o: FetchToStoreOptions, proofOnly = false): Promise<StoredWeight | undefined> {
  if (!o.weight.sha256) return undefined;
  const blob = await findVerifiedBlob(o.home, o.weight.sha256, { size: o.weight.size, log: o.log, signal: o.signal, proofOnly });
  if (!blob) return undefined;
  o.log?.(`${o.weight.id}: already in the store (${blob.sha256})`);
  await addBlobSource(o.home, blob.sha256, sourceOf(o.weight));
  return {
    sha256: blob.sha256,
    size: blob.size,
    path: blob.path,
    url: o.weight.url,
    integrity: 'stored',
    downloaded: false,
    reusedBytes: 0,
  };
}

/**
 * The part lock is taken first, waiting when another process downloads the same file: once it is
 * done the blob is in the store and is reused — the same bytes are never fetched twice at once.
 * The blob enters the store and the partial is removed while the lock is still held.
 */
async function lockedDownload(o: FetchToStoreOptions, part: string): Promise<StoredWeight> {
  const release = await acquirePartLock(part, {
    wait: true,
    signal: o.signal,
    onWait: (pid) => o.log?.(`${o.weight.id}: another Orchard process (pid ${pid}) is downloading this file; waiting for it`),
  });
  try {
    return (await alreadyStored(o)) ?? (await download(o, part));
  } finally {
    await release();
  }
}

function sourceOf(w: WeightSource): BlobSource {
  return {
    url: w.url,
    ...(w.mirrors && w.mirrors.length > 0 ? { mirrors: [...w.mirrors] } : {}),
    ...(w.auth ? { auth: w.auth } : {}),
    ...(w.gatedPage ? { gatedPage: w.gatedPage } : {}),
  };
}

async function download(o: FetchToStoreOptions, part: string): Promise<StoredWeight> {
  if (o.signal?.aborted) throw new OrchardError('CANCELLED', 'download cancelled', { where: displayUrl(o.weight.url) });
  const progress = new DownloadProgress(o.emit ?? ignoreEvents, {
    file: o.weight.id,
    url: displayUrl(o.weight.url),
    ...(o.app ? { app: o.app } : {}),
  });
  const started = Date.now();
  let lastDone = 0;
  const result = await downloadFile({
    urls: [o.weight.url, ...(o.weight.mirrors ?? [])],
    partFile: part,
    partLockHeld: true,
    expectedSha256: o.weight.sha256,
    expectedSize: o.weight.size,
    ...(o.connections !== undefined ? { connections: o.connections } : {}),
    // The token is for gated weights only: a weight not marked `auth` never carries it.
    token: o.weight.auth === 'huggingface' ? o.token : undefined,
    ...(o.hubHosts ? { hubHosts: o.hubHosts } : {}),
    gatedPage: o.weight.gatedPage,
    signal: o.signal,
    onProgress: (done, total) => {
      lastDone = done;
      progress.update(done, total);
    },
    beforeFirstByte: (missing) =>
      preflightDiskSpace(o.home.store, missing, { freeSpace: o.freeSpace ?? processFreeSpace, what: `"${o.weight.id}"` }),
    ...(o.log ? { log: o.log } : {}),
    ...(o.stallMs !== undefined ? { stallMs: o.stallMs } : {}),
    ...(o.maxRetries !== undefined ? { maxRetries: o.maxRetries } : {}),
    ...(o.retryBaseMs !== undefined ? { retryBaseMs: o.retryBaseMs } : {}),
  });
  const blob = await commitBlob(o.home, result.file, result.sha256, { identity: result.identity, sources: [sourceOf(o.weight)] });
  await removePartial(part);
  const seconds = Math.max(0.001, (Date.now() - started) / 1000);
  progress.finish(Math.max(lastDone, result.size), result.size, (result.size - result.reusedBytes) / seconds);
  o.log?.(
    `${o.weight.id}: ${result.size} bytes from ${displayUrl(result.url)}, sha256 ${result.sha256} (` +
      (result.integrity === 'none'
        ? 'not verified: no pinned hash and no hub metadata'
        : `verified against the ${result.integrity === 'pinned' ? 'recipe pin' : "hub's LFS metadata"}`) +
      ')',
  );
  return {
    sha256: result.sha256,
    size: result.size,
    path: blob,
    url: result.url,
    integrity: result.integrity,
    downloaded: true,
    reusedBytes: result.reusedBytes,
  };
}
