import type { FileHandle } from 'node:fs/promises';
import PQueue from 'p-queue';

/**
 * After this many bytes written, the writer asks the disk to catch up (fdatasync, in the
 * background). Without it the page cache holds gigabytes of dirty data when the last byte lands,
 * and the fsync that must precede the move into the store then waits for all of it: 0.6–0.7 s for
 * 2 GiB here, time aria2c (which never syncs) does not spend. Synced along the way, the final
 * fsync waits for the last few hundred MiB at most. Clean pages are also the ones the hasher can
 * drop from the page cache once hashed (page-cache-drop.ts).
 */
export const SYNC_EVERY_BYTES = 256 * 2 ** 20;

/**
 * Positional writes into one file, one at a time. Buffered writes to a file take its inode lock
 * exclusively (ext4, xfs); eight connections writing through libuv's four threads at once made
 * those threads spin on the lock: on 2 vCPUs a 4 GiB download spent 10–18 s of system CPU against
 * 6.5–7 s with one write in flight, and finished 15–30% later. Reads (the hasher's read-back) and
 * the background fdatasync do not take that lock and stay outside this queue.
 */
export class SerialWriter {
  private readonly queue = new PQueue({ concurrency: 1 });
  private unsynced = 0;
  private syncing: Promise<void> | undefined;
  private syncError: unknown;

  constructor(
    private readonly fh: FileHandle,
    private readonly syncEveryBytes = SYNC_EVERY_BYTES,
  ) {}

  /** Write `chunks` back to back at `position`; resolves once every byte is in the file. */
  write(chunks: readonly Buffer[], position: number): Promise<void> {
    return this.queue.add(
      async () => {
        this.unsynced += await writeAll(this.fh, chunks, position);
        if (this.unsynced >= this.syncEveryBytes && this.syncing === undefined) this.startSync();
      },
      { throwOnTimeout: true },
    );
  }

  /** Every byte written so far is on the disk, metadata included (call after the last write). */
  async sync(): Promise<void> {
    await this.queue.onIdle();
    await this.syncing;
    if (this.syncError !== undefined) throw this.syncError;
    await this.fh.sync();
  }

  private startSync(): void {
    this.unsynced = 0;
    this.syncing = this.fh
      .datasync()
      .catch((err: unknown) => {
        this.syncError ??= err;
      })
      .finally(() => {
        this.syncing = undefined;
      });
  }
}

/** Write every byte; returns how many (all of them). */
async function writeAll(fh: FileHandle, chunks: readonly Buffer[], position: number): Promise<number> {
  const length = chunks.reduce((n, c) => n + c.length, 0);
  let written = 0;
  while (written < length) {
    // A short write is rare (disk full is an error instead); finish it from one joined buffer.
    const { bytesWritten } = await fh.writev(written === 0 ? [...chunks] : [Buffer.concat(chunks).subarray(written)], position + written);
    written += bytesWritten;
  }
  return written;
}
