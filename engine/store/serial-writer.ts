import type { FileHandle } from 'node:fs/promises';
import PQueue from 'p-queue';

/**
 * Positional writes into one file, one at a time. Buffered writes to a file take its inode lock
 * exclusively (ext4, xfs); eight connections writing through libuv's four threads at once made
 * those threads spin on the lock: on 2 vCPUs a 4 GiB download spent 10–18 s of system CPU against
 * 6.5–7 s with one write in flight, and finished 15–30% later. Reads (the hasher's read-back) do not
 * take that lock and stay outside this queue.
 */
export class SerialWriter {
  private readonly queue = new PQueue({ concurrency: 1 });

  constructor(private readonly fh: FileHandle) {}

  /** Write `chunks` back to back at `position`; resolves once every byte is in the file. */
  write(chunks: readonly Buffer[], position: number): Promise<void> {
    return this.queue.add(() => writeAll(this.fh, chunks, position), { throwOnTimeout: true });
  }
}

async function writeAll(fh: FileHandle, chunks: readonly Buffer[], position: number): Promise<void> {
  const length = chunks.reduce((n, c) => n + c.length, 0);
  let written = 0;
  while (written < length) {
    // A short write is rare (disk full is an error instead); finish it from one joined buffer.
    const { bytesWritten } = await fh.writev(written === 0 ? [...chunks] : [Buffer.concat(chunks).subarray(written)], position + written);
    written += bytesWritten;
  }
}
