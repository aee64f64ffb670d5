import { mkdir, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OrchardError, isOrchardError, messageOf } from '../../core/errors.js';
import { pumpBody, type BodySink, type Segment } from './body-pump.js';
import { ExpiredTargetError, HttpStatusError, RemoteChangedError, TransientError, isTransientStatus } from './download-errors.js';
import { headerText, openUrl, requestHeaders, type OpenedResponse } from './http-client.js';
import { DEFAULT_HUB_HOSTS, displayUrl, isHubHost } from '../../core/hub-auth.js';
import { InOrderHasher } from './in-order-hasher.js';
import { acquirePartLock } from './part-lock.js';
import { Persister } from './part-persister.js';
import { readPartialState, removePartial, sameRemoteVersion, type PartialState } from './partial-state.js';
import { PiecePlanner } from './piece-planner.js';
import { RangeSet } from './range-set.js';
import { createNewFile, HostileFileError, openOwnedFile } from '../safe-file.js';
import { backoffMs, cancelled, withRetries } from './retry-policy.js';
import { SerialWriter } from './serial-writer.js';
import { authError, probeRemote, type RemoteFile } from './remote-probe.js';

/**
 * The downloader: one file from a list of sources (primary, then mirrors) into a part file, in
 * parallel ranges when the server allows it, resumable after a crash at any moment, verified by
 * sha256 over the whole file before the caller may move it anywhere.
 */
export interface DownloadOptions {
  /** The primary URL, then mirrors, tried in order. */
  urls: readonly string[];
  /** Where the bytes go; the sidecar is `<partFile>.json`, the lock `<partFile>.lock`. */
  partFile: string;
  expectedSha256?: string | undefined;
  expectedSize?: number | undefined;
  /** The caller already holds the part lock (fetchToStore waits for it, then commits under it). */
  partLockHeld?: boolean;
  /** Parallel connections when the server honours Range (default 8). */
  connections?: number;
  token?: string | undefined;
  hubHosts?: readonly string[];
  gatedPage?: string | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: (bytesDone: number, bytesTotal: number | undefined) => void;
  /** Called once the size is known and before any body byte is written (disk preflight). */
  beforeFirstByte?: (missingBytes: number) => Promise<void>;
  log?: (line: string) => void;
  /** No byte for this long on a connection = stalled: drop it and retry (default 30 s). */
  stallMs?: number;
  /** Failed attempts in a row without progress before a source is given up (default 6). */
  maxRetries?: number;
  /** First backoff pause; doubles each time, capped at 15 s (default 500 ms). */
  retryBaseMs?: number;
}

export type Integrity = 'pinned' | 'hub' | 'none';

export interface DownloadResult {
  file: string;
  sha256: string;
  size: number;
  /** The source (primary or mirror) that served the file. */
  url: string;
  /** What the hash was checked against: the recipe's pin, the hub's LFS metadata, or nothing. */
  integrity: Integrity;
  /** Bytes already on disk from an earlier attempt and reused. */
  reusedBytes: number;
  /** The part file that was written and hashed: whoever moves `file` checks it is still this one. */
  identity: { dev: number; ino: number };
}

// An idle connection takes over the second half of a busy one's segment only when that half is at
// least this big: the busy connection's bytes already in flight past the split are wasted.
const MIN_STEAL = 8 * 2 ** 20;
const MAX_RESTARTS = 3;

export async function downloadFile(o: DownloadOptions): Promise<DownloadResult> {
  if (o.urls.length === 0) throw new OrchardError('DOWNLOAD', 'no URL to download from', { hint: 'Give the weight a url.' });
  await mkdir(path.dirname(o.partFile), { recursive: true });
  const release = o.partLockHeld ? async () => undefined : await acquirePartLock(o.partFile);
  try {
    const failures: { url: string; err: unknown }[] = [];
    for (const url of o.urls) {
      try {
        return await downloadFromSource(url, o);
      } catch (err) {
        if (o.signal?.aborted) throw cancelled(url);
        if (isOrchardError(err) && (err.code === 'DISK_SPACE' || err.code === 'CANCELLED' || err.code === 'LOCKED' || err.code === 'IO'))
          throw err;
        failures.push({ url, err });
        if (o.urls.length > 1) o.log?.(`source ${displayUrl(url)} failed: ${messageOf(err)}`);
      }
    }
    throw summarize(failures);
  } finally {
    await release();
  }
}

/** The error that explains best why no source worked: auth and integrity first, they need the user. */
function summarize(failures: { url: string; err: unknown }[]): OrchardError {
  const orchard = failures.map((f) => f.err).filter(isOrchardError);
  const pick = orchard.find((e) => e.code === 'AUTH') ?? orchard.find((e) => e.code === 'INTEGRITY');
  if (pick && failures.length === 1) return pick;
  if (pick)
    return new OrchardError(pick.code, `${pick.message} (and ${failures.length - 1} other source(s) failed)`, {
      ...(pick.where ? { where: pick.where } : {}),
      ...(pick.hint ? { hint: pick.hint } : {}),
    });
  const last = failures[failures.length - 1]!;
  if (isOrchardError(last.err) && failures.length === 1) return last.err;
  const lines = failures.map((f) => `${displayUrl(f.url)}: ${messageOf(f.err)}`);
  return new OrchardError(
    'DOWNLOAD',
    `download failed from ${failures.length === 1 ? 'its source' : `all ${failures.length} sources`}: ${lines.join('; ')}`,
    {
      where: displayUrl(failures[0]!.url),
      hint: 'Check the network and the URL; run the command again to resume from the bytes already on disk.',
    },
  );
}

async function downloadFromSource(url: string, o: DownloadOptions): Promise<DownloadResult> {
  const auth = { token: o.token, hubHosts: o.hubHosts ?? DEFAULT_HUB_HOSTS };
  for (let restart = 0; ; restart++) {
    const remote = await withRetries(
      'probe',
      url,
      o,
      () => probeRemote(url, { ...auth, ...(o.signal ? { signal: o.signal } : {}), ...(o.gatedPage ? { gatedPage: o.gatedPage } : {}) }),
      restart === 0,
    );
    checkAgainstPins(remote, o);
    try {
      return await transfer(url, remote, o);
    } catch (err) {
      if (err instanceof RemoteChangedError && restart < MAX_RESTARTS) {
        o.log?.(`${err.message}; starting this file again from byte 0`);
        await removePartial(o.partFile);
        continue;
      }
      if (err instanceof RemoteChangedError)
        throw new OrchardError('DOWNLOAD', `the file kept changing on the server while downloading: ${err.message}`, {
          where: displayUrl(url),
          hint: 'Try again later.',
        });
      throw err;
    }
  }
}

/** A pinned size or hash that the server already contradicts: fail before downloading anything. */
function checkAgainstPins(remote: RemoteFile, o: DownloadOptions): void {
  const size = remote.validators.size;
  if (o.expectedSize !== undefined && size !== undefined && size !== o.expectedSize) {
    throw new OrchardError('INTEGRITY', `size mismatch: expected ${o.expectedSize} bytes, the server has ${size} bytes`, {
      where: displayUrl(remote.sourceUrl),
      hint: 'The file at this URL is not the pinned one: fix the URL or the pinned size/sha256 in the recipe.',
    });
  }
  if (o.expectedSha256 && remote.hubSha256 && remote.hubSha256 !== o.expectedSha256.toLowerCase()) {
    throw new OrchardError('INTEGRITY', `sha256 mismatch: expected ${o.expectedSha256}, the hub declares ${remote.hubSha256}`, {
      where: displayUrl(remote.sourceUrl),
      hint:
        'The file at this URL is not the pinned one (the repository changed?): pin a revision in the URL or update the ' +
        'sha256 in the recipe.',
    });
  }
}

async function transfer(url: string, remote: RemoteFile, o: DownloadOptions): Promise<DownloadResult> {
  const expectedSha = (o.expectedSha256 ?? remote.hubSha256)?.toLowerCase();
  const integrity: Integrity = o.expectedSha256 ? 'pinned' : remote.hubSha256 ? 'hub' : 'none';
  const size = remote.validators.size;
  const canRange = remote.acceptsRanges && size !== undefined && size > 0;

  const previous = await readPartialState(o.partFile, (why) => o.log?.(`${why}: starting from byte 0`));
  let done = new RangeSet();
  let fh: FileHandle | undefined;
  if (previous && canRange) {
    // The part file is reopened without following a link, and only a regular file of ours with one
    // name is resumed: anything planted in its place is removed (its name, never its target).
    fh = await openOwnedFile(o.partFile, true).catch((err: unknown) => {
      if (err instanceof HostileFileError) o.log?.(`the partial download is refused (${err.reason}): starting from byte 0`);
      else if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return undefined;
    });
    const onDisk = fh ? (await fh.stat()).size : -1;
    const reusable =
      fh !== undefined &&
      previous.sourceUrl === url &&
      previous.expectedSha256 === expectedSha &&
      sameRemoteVersion(previous.validators, remote.validators, o.expectedSha256 !== undefined);
    if (reusable) done = new RangeSet(previous.done.filter(([, e]) => e <= onDisk && e <= size));
    else if (fh)
      o.log?.(`the partial download does not match the remote file any more (validators or source changed): starting from byte 0`);
  }
  if (done.total() === 0) {
    await fh?.close();
    await removePartial(o.partFile);
    // A new file, created here: a name planted between the removal and this open fails (O_EXCL).
    fh = await createNewFile(o.partFile, 0o600);
  }
  if (!fh) throw new Error('unreachable: no part file open');
  const reusedBytes = done.total();
  if (reusedBytes > 0) o.log?.(`resuming: ${reusedBytes} of ${size} bytes already on disk`);

  let identity: { dev: number; ino: number };
  try {
    const missing = size !== undefined ? size - reusedBytes : (o.expectedSize ?? 0);
    await o.beforeFirstByte?.(missing);
    const s = await fh.stat();
    identity = { dev: s.dev, ino: s.ino };
  } catch (err) {
    await fh.close();
    throw err;
  }
  let keep = true;
  const state: PartialState = {
    version: 1,
    sourceUrl: url,
    finalUrl: displayUrl(remote.finalUrl),
    validators: remote.validators,
    ...(expectedSha ? { expectedSha256: expectedSha } : {}),
    done: done.toJSON(),
    sequential: !canRange,
    hashedThrough: 0,
    updatedAt: '',
  };
  const hasher = new InOrderHasher(o.partFile, done, fh.fd);
  const persister = new Persister(o.partFile, state, done, hasher);
  try {
    await persister.flush(); // the validators are on disk before the first byte is
    hasher.kick();
    const writer = new SerialWriter(fh);
    const sink: BodySink = {
      writer,
      done,
      hasher,
      onWritten: () => {
        // Only ranged downloads resume from the sidecar; a single stream restarts from byte 0.
        if (canRange) persister.markDirty();
        o.onProgress?.(done.total(), size);
      },
      stallMs: o.stallMs ?? 30_000,
      signal: o.signal,
    };
    if (canRange) await parallelRanges(url, remote, size, sink, o);
    else await singleStream(url, remote, fh, sink, o);
    const total = done.total();
    if (size !== undefined && total !== size) throw new TransientError(`only ${total} of ${size} bytes arrived`);
    await persister.stop();
    await fh.truncate(total);
    // The fsync (short: the writer kept the disk in step) overlaps the hash of the tail.
    const [actual] = await Promise.all([hasher.finish(), writer.sync()]);
    if (expectedSha && actual !== expectedSha && reusedBytes > 0) {
      // Bytes resumed from disk (a sidecar can be forged to look right) may be what is wrong:
      // once more from byte 0 before calling the source bad.
      keep = false;
      throw new RemoteChangedError(`the file resumed from disk hashes to ${actual}, not ${expectedSha}`);
    }
    if (expectedSha && actual !== expectedSha) {
      keep = false;
      throw new OrchardError('INTEGRITY', `sha256 mismatch for ${displayUrl(url)}: expected ${expectedSha}, got ${actual}`, {
        where: displayUrl(url),
        hint:
          integrity === 'pinned'
            ? 'The downloaded file is not the pinned one; nothing entered the store. Fix the URL or the pinned sha256 in the recipe.'
            : 'The file does not match the hash the hub declares; nothing entered the store. Try again (or another mirror).',
      });
    }
    return { file: o.partFile, sha256: actual, size: total, url, integrity, reusedBytes, identity };
  } finally {
    await persister.stop();
    await hasher.close();
    await fh.close();
    if (!keep) await removePartial(o.partFile);
    else if (o.signal?.aborted) await persister.flush().catch(() => undefined);
  }
}

async function parallelRanges(url: string, remote: RemoteFile, size: number, sink: BodySink, o: DownloadOptions): Promise<void> {
  const connections = Math.max(1, Math.min(64, o.connections ?? 8));
  const pieces = new PiecePlanner(sink.done.missing(size), connections);
  const active = new Set<Segment>();
  const stop = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, stop.signal]) : stop.signal;
  const auth = { token: o.token, hubHosts: o.hubHosts ?? DEFAULT_HUB_HOSTS };
  let target = remote.finalUrl;
  let resolving: Promise<void> | undefined;
  const validator = strongValidator(remote);

  const reresolve = () => {
    resolving ??= (async () => {
      o.log?.(`the redirect target ${displayUrl(target)} expired; resolving ${displayUrl(url)} again`);
      const fresh = await withRetries('probe', url, o, () =>
        probeRemote(url, { ...auth, signal, ...(o.gatedPage ? { gatedPage: o.gatedPage } : {}) }),
      );
      if (!sameRemoteVersion(remote.validators, fresh.validators, o.expectedSha256 !== undefined)) {
        throw new RemoteChangedError(`the remote file changed (validators differ after resolving ${displayUrl(url)} again)`);
      }
      target = fresh.finalUrl;
    })().finally(() => {
      resolving = undefined;
    });
    return resolving;
  };

  const steal = (): Segment | undefined => {
    let best: Segment | undefined;
    for (const s of active) {
      const left = s.end - s.received;
      if (left >= 2 * MIN_STEAL && (!best || left > best.end - best.received)) best = s;
    }
    if (!best) return undefined;
    const mid = best.received + Math.floor((best.end - best.received) / 2 / 65536) * 65536;
    const seg = { pos: mid, received: mid, end: best.end };
    best.end = mid;
    return seg;
  };

  const fetchInto = async (seg: Segment): Promise<void> => {
    const extra: Record<string, string> = { range: `bytes=${seg.pos}-${seg.end - 1}` };
    if (validator) extra['if-range'] = validator;
    const at = target;
    const res = await openUrl(at, requestHeaders(at, auth, extra), { signal });
    try {
      checkRangeResponse(res, at, seg, size, auth.hubHosts, url, o);
    } catch (err) {
      res.close();
      throw err;
    }
    await pumpBody(res, seg, sink);
  };

  const runSegment = async (seg: Segment): Promise<void> => {
    let failures = 0;
    while (seg.pos < seg.end) {
      const before = seg.pos;
      try {
        await fetchInto(seg);
        if (seg.pos < seg.end) throw new TransientError(`truncated response: the connection ended at byte ${seg.pos} of ${seg.end}`);
      } catch (err) {
        if (signal.aborted) throw o.signal?.aborted ? cancelled(url) : err;
        if (seg.pos > before) failures = 0;
        if (err instanceof ExpiredTargetError) {
          if (++failures > 2) throw authError(url, err.status, { token: o.token, ...(o.gatedPage ? { gatedPage: o.gatedPage } : {}) });
          await reresolve();
          continue;
        }
        if (!(err instanceof TransientError)) throw err;
        if (++failures > (o.maxRetries ?? 6)) {
          throw new OrchardError('DOWNLOAD', `giving up on ${displayUrl(url)} after ${failures - 1} retries: ${err.message}`, {
            where: displayUrl(url),
            hint: 'Check the network; run again to resume from the bytes already on disk.',
          });
        }
        const pause = backoffMs(failures, o);
        o.log?.(`bytes ${seg.pos}-${seg.end - 1}: ${err.message}; retry ${failures} in ${pause} ms`);
        await sleep(pause, undefined, { signal }).catch(() => undefined);
      }
    }
  };

  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (firstError === undefined) {
      const seg = pieces.next() ?? steal();
      if (!seg) return;
      active.add(seg);
      try {
        await runSegment(seg);
      } catch (err) {
        if (firstError === undefined) firstError = err;
        stop.abort(err instanceof Error ? err : new Error(String(err)));
        return;
      } finally {
        active.delete(seg);
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  if (firstError !== undefined) throw firstError;
  if (o.signal?.aborted) throw cancelled(url);
}

function strongValidator(remote: RemoteFile): string | undefined {
  const etag = remote.validators.etag;
  if (etag && !etag.startsWith('W/')) return etag;
  return remote.validators.lastModified;
}

function checkRangeResponse(
  res: OpenedResponse,
  at: string,
  seg: Segment,
  size: number,
  hubHosts: readonly string[],
  url: string,
  o: DownloadOptions,
): void {
  if (res.status === 206) {
    const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(headerText(res.headers, 'content-range')?.trim() ?? '');
    if (!m || Number(m[1]) !== seg.pos)
      throw new TransientError(
        `the server answered a different range (${headerText(res.headers, 'content-range') ?? 'none'}) than asked (${seg.pos}-)`,
      );
    if (m[3] !== '*' && Number(m[3]) !== size) throw new RemoteChangedError(`the remote file size changed from ${size} to ${m[3]} bytes`);
    return;
  }
  if (res.status === 200)
    throw new RemoteChangedError('the server sent the whole file instead of the requested range (the remote file changed)');
  if (res.status === 416) throw new RemoteChangedError('the server refused the byte range (the remote file changed)');
  if (res.status === 401 || res.status === 403 || res.status === 404 || res.status === 410) {
    if (!isHubHost(new URL(at), hubHosts) && at !== url)
      throw new ExpiredTargetError(`HTTP ${res.status} from ${displayUrl(at)}`, res.status);
    if (res.status === 401 || res.status === 403)
      throw authError(url, res.status, { token: o.token, ...(o.gatedPage ? { gatedPage: o.gatedPage } : {}) });
  }
  if (isTransientStatus(res.status)) throw new TransientError(`HTTP ${res.status} from ${displayUrl(at)}`, res.status);
  throw new HttpStatusError(`HTTP ${res.status} from ${displayUrl(at)}`, res.status);
}

/**
 * No Range support (or unknown size): one stream from byte 0, hashed while it is written. A retry
 * has to start again from 0 because the server cannot skip the bytes already held.
 */
async function singleStream(url: string, remote: RemoteFile, fh: FileHandle, sink: BodySink, o: DownloadOptions): Promise<void> {
  const auth = { token: o.token, hubHosts: o.hubHosts ?? DEFAULT_HUB_HOSTS };
  const size = remote.validators.size;
  let target = remote.finalUrl;
  for (let failures = 0; ; ) {
    const seg: Segment = { pos: 0, received: 0, end: size ?? Number.MAX_SAFE_INTEGER };
    try {
      const res = await openUrl(target, requestHeaders(target, auth), o.signal ? { signal: o.signal } : {});
      if (res.status !== 200) {
        res.close();
        if (
          (res.status === 401 || res.status === 403 || res.status === 410) &&
          target !== url &&
          !isHubHost(new URL(target), auth.hubHosts)
        ) {
          target = (await probeRemote(url, { ...auth, ...(o.signal ? { signal: o.signal } : {}) })).finalUrl;
          throw new TransientError(`HTTP ${res.status} from an expired redirect target`);
        }
        if (res.status === 401 || res.status === 403)
          throw authError(url, res.status, { token: o.token, ...(o.gatedPage ? { gatedPage: o.gatedPage } : {}) });
        if (isTransientStatus(res.status)) throw new TransientError(`HTTP ${res.status} from ${displayUrl(target)}`, res.status);
        throw new HttpStatusError(`HTTP ${res.status} from ${displayUrl(target)}`, res.status);
      }
      await pumpBody(res, seg, sink);
      if (size !== undefined && seg.pos < size)
        throw new TransientError(`truncated response: the connection ended at byte ${seg.pos} of ${size}`);
      return;
    } catch (err) {
      if (o.signal?.aborted) throw cancelled(url);
      if (!(err instanceof TransientError)) throw err;
      if (++failures > (o.maxRetries ?? 6)) {
        throw new OrchardError('DOWNLOAD', `giving up on ${displayUrl(url)} after ${failures - 1} retries: ${err.message}`, {
          where: displayUrl(url),
          hint: 'The server does not support resuming (no Range); check the network and try again.',
        });
      }
      // Start over: without Range the bytes already written cannot be continued.
      if (sink.done.total() > 0) {
        o.log?.(`${err.message}; the server cannot resume (no Range support): starting again from byte 0`);
        sink.done.clear();
        await sink.hasher.reset();
        await fh.truncate(0);
      }
      const pause = backoffMs(failures, o);
      o.log?.(`${err.message}; retry ${failures} in ${pause} ms`);
      await sleep(pause, undefined, o.signal ? { signal: o.signal } : {}).catch(() => undefined);
    }
  }
}
