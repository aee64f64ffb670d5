import { createHash, type Hash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type { RangeSet } from './range-set.js';

const READ_BACK = 4 * 2 ** 20;

/**
 * sha256 of a file that is written out of order: bytes that arrive exactly at the hashed frontier
 * are hashed straight from memory (a single stream is hashed while writing); the rest are read
 * back from the part file (still in the page cache) as soon as the contiguous prefix grows, so
 * only the tail is left to hash when the last byte lands. Node cannot export a sha256 mid-state,
 * so after a restart the prefix already on disk is hashed again from disk (local, fast).
 */
export class InOrderHasher {
  private hash: Hash = createHash('sha256');
  private catching: Promise<void> | undefined;
  private failure: unknown;
  hashed = 0;

  constructor(private readonly fh: FileHandle, private readonly done: RangeSet) {}

  /** Bytes just written at `start` (already recorded in `done`). */
  offer(start: number, chunks: readonly Buffer[]): void {
    if (!this.catching && start === this.hashed) {
      for (const c of chunks) this.hash.update(c);
      this.hashed += chunks.reduce((n, c) => n + c.length, 0);
    }
    this.kick();
  }

  /** Start reading back whatever prefix is on disk but not hashed yet. */
  kick(): void {
    if (this.catching || this.failure !== undefined || this.done.prefixEnd() <= this.hashed) return;
    this.catching = this.catchUp()
      .catch((err: unknown) => {
        this.failure = err;
      })
      .finally(() => {
        this.catching = undefined;
        this.kick();
      });
  }

  private async catchUp(): Promise<void> {
    const buf = Buffer.allocUnsafe(READ_BACK);
    while (this.hashed < this.done.prefixEnd()) {
      const want = Math.min(READ_BACK, this.done.prefixEnd() - this.hashed);
      const { bytesRead } = await this.fh.read(buf, 0, want, this.hashed);
      if (bytesRead <= 0) throw new Error(`the part file is shorter than its recorded ranges (at byte ${this.hashed})`);
      this.hash.update(buf.subarray(0, bytesRead));
      this.hashed += bytesRead;
    }
  }

  /** Forget everything hashed (the part file is being started again from byte 0). */
  async reset(): Promise<void> {
    while (this.catching) await this.catching;
    this.hash = createHash('sha256');
    this.hashed = 0;
    this.failure = undefined;
  }

  /** Hash whatever remains and return the hex digest. Call once, after the last write. */
  async finish(): Promise<string> {
    for (;;) {
      if (this.catching) await this.catching;
      if (this.failure !== undefined) throw this.failure;
      if (this.hashed >= this.done.prefixEnd()) break;
      this.kick();
    }
    return this.hash.digest('hex');
  }
}
