import type { BatchPool } from './batch-pool.js';
import { RemoteChangedError, TransientError } from './download-errors.js';
import { networkMessage, type OpenedResponse } from './http-client.js';
import type { InOrderHasher } from './in-order-hasher.js';
import type { RangeSet } from './range-set.js';
import type { SerialWriter } from './serial-writer.js';

/** The part of the file one connection is filling. */
export interface Segment {
  /** Bytes written and recorded in `done`. */
  pos: number;
  /** Bytes received into memory (≥ pos): a steal never splits below this. */
  received: number;
  end: number;
}

/** Where a body's bytes go. */
export interface BodySink {
  writer: SerialWriter;
  pool: BatchPool;
  done: RangeSet;
  hasher: InOrderHasher;
  /** After each batch is written and recorded. */
  onWritten: () => void;
  stallMs: number;
  signal?: AbortSignal | undefined;
}

// A batch is written once it is full (the pool's buffer size) or 20 ms old; the sidecar follows
// within 20 ms, so a SIGKILL loses about 40 ms of transfer (in memory or not yet recorded).
const FLUSH_AGE_MS = 20;
// Batches of one connection queued for the writer before it stops reading and waits.
const MAX_QUEUED = 3;

/**
 * Copy a response body into the part file at seg.pos, batch by batch, recording each batch in
 * `done` only after it is written. Reading goes on while earlier batches wait for the writer: if
 * it stopped, got would keep buffering the socket's chunks meanwhile. A stall (no byte for stallMs)
 * ends the response with a TransientError; bytes received before any error are kept.
 */
export async function pumpBody(res: OpenedResponse, seg: Segment, sink: BodySink): Promise<void> {
  const watchdog = setTimeout(() => res.close(new TransientError(`stalled: no data for ${Math.round(sink.stallMs / 1000)} s`)), sink.stallMs);
  const queued: Promise<void>[] = [];
  let writeError: unknown;
  let batch = sink.pool.take();
  let filled = 0;
  let batchAt = 0;

  const submit = (): void => {
    if (filled === 0) return;
    const buffer = batch;
    const length = filled;
    const start = seg.received - length;
    batch = sink.pool.take();
    filled = 0;
    const written = sink.writer
      .write([buffer.subarray(0, length)], start)
      .then(() => {
        // The writer runs its queue in order, so seg.pos only ever moves forward.
        sink.done.add(start, start + length);
        seg.pos = start + length;
        sink.hasher.kick();
        sink.onWritten();
      })
      .catch((err: unknown) => {
        writeError ??= err;
      })
      .finally(() => sink.pool.give(buffer));
    queued.push(written);
  };
  const drain = async (keep: number): Promise<void> => {
    while (queued.length > keep) await queued.shift();
    if (writeError !== undefined) throw writeError;
  };

  let failure: unknown;
  try {
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      watchdog.refresh();
      const room = seg.end - seg.received;
      if (room <= 0) break;
      let piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      if (filled === 0) batchAt = Date.now();
      while (piece.length > 0) {
        const n = piece.copy(batch, filled);
        filled += n;
        seg.received += n;
        piece = piece.subarray(n);
        if (filled === batch.length) submit();
      }
      if (filled > 0 && Date.now() - batchAt >= FLUSH_AGE_MS) submit();
      if (queued.length > MAX_QUEUED) await drain(MAX_QUEUED);
      if (seg.received >= seg.end) break;
    }
  } catch (err) {
    failure = err;
  } finally {
    clearTimeout(watchdog);
    res.close();
  }
  // Keep what arrived before any failure: it is valid data of this range.
  submit();
  sink.pool.give(batch);
  await drain(0);
  if (failure !== undefined) {
    if (failure instanceof TransientError || failure instanceof RemoteChangedError) throw failure;
    if (sink.signal?.aborted) throw failure;
    throw new TransientError(networkMessage(failure));
  }
}
