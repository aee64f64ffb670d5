import { Worker } from 'node:worker_threads';
import type { HashReply, HashRequest } from './hash-worker.js';
import type { RangeSet } from './range-set.js';

/**
 * sha256 of a file that is written out of order, computed while it downloads: whenever the
 * contiguous prefix on disk grows, a worker thread reads it back (still in the page cache) and
 * hashes it, so only the tail is left to hash when the last byte lands. Node cannot export a
 * sha256 mid-state, so after a restart the prefix already on disk is hashed again (local, fast).
 */
export class InOrderHasher {
  private readonly worker: Worker;
  private posted = 0;
  private failure: Error | undefined;
  private waiting: { kind: HashReply['kind']; resolve: (m: HashReply) => void; reject: (err: Error) => void } | undefined;
  /** Bytes hashed so far, as last reported by the worker. */
  hashed = 0;

  /**
   * `fd`: read through this descriptor (the download's own open part file) rather than opening
   * `file` again by name, so a name swapped on disk meanwhile cannot feed the hash other bytes.
   */
  constructor(
    file: string,
    private readonly done: RangeSet,
    fd?: number,
  ) {
    this.worker = new Worker(new URL('./hash-worker.js', import.meta.url), { workerData: { file, ...(fd !== undefined ? { fd } : {}) } });
    this.worker.unref();
    this.worker.on('message', (m: HashReply) => {
      if (m.kind === 'hashed') this.hashed = Math.max(this.hashed, m.hashed);
      if (m.kind === 'error') this.fail(new Error(m.message));
      if (this.waiting?.kind === m.kind) {
        const { resolve } = this.waiting;
        this.waiting = undefined;
        resolve(m);
      }
    });
    this.worker.on('error', (err) => this.fail(err));
  }

  /** Bytes were just written and recorded in `done`: hash whatever prefix that completed. */
  kick(): void {
    const through = this.done.prefixEnd();
    if (through <= this.posted || this.failure) return;
    this.posted = through;
    this.post({ kind: 'extend', through });
  }

  /** Forget everything hashed (the part file is about to be started again from byte 0). */
  async reset(): Promise<void> {
    await this.ask({ kind: 'reset' }, 'reset');
    this.failure = undefined;
    this.posted = 0;
    this.hashed = 0;
  }

  /** Hash whatever remains and return the hex digest. Call once, after the last write. */
  async finish(): Promise<string> {
    const reply = await this.ask({ kind: 'finish', through: this.done.prefixEnd() }, 'digest');
    if (reply.kind !== 'digest') throw new Error('the hash worker answered out of turn');
    this.hashed = this.done.prefixEnd();
    return reply.hex;
  }

  /** Stop the worker (always called, also after a failure). */
  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private post(m: HashRequest): void {
    this.worker.postMessage(m);
  }

  private ask(m: HashRequest, answer: HashReply['kind']): Promise<HashReply> {
    if (this.failure && m.kind !== 'reset') return Promise.reject(this.failure);
    return new Promise<HashReply>((resolve, reject) => {
      this.waiting = { kind: answer, resolve, reject };
      this.post(m);
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.reject(err);
  }
}
