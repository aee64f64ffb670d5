import { openSync } from 'node:fs';
import { open, rm, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { LineSplitter } from './line-splitter.js';

const READ_CHUNK = 64 * 1024;

/**
 * A service writes its stdout/stderr into a spool file (opened O_APPEND), never into a pipe held by
 * Orchard: when the Orchard server dies, a pipe would break and the service would die of SIGPIPE (or
 * an EPIPE it does not handle) on its next line. The supervisor tails the spool, hands each line on,
 * and truncates what it has read, so the spool stays small and, after a server crash, holds exactly
 * the lines the next server has not seen yet.
 *
 * A line the service writes in the instant between the last read and the truncation is lost; a
 * poll reads to the end first and truncates only when nothing new has arrived, so the window is one
 * system call wide.
 */
export class SpoolTail {
  private handle: FileHandle | undefined;
  private offset = 0;
  private readonly decoder = new StringDecoder('utf8');
  private readonly splitter: LineSplitter;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly file: string,
    onLine: (line: string) => void,
  ) {
    this.splitter = new LineSplitter(onLine);
  }

  /** A file descriptor for the child's stdout/stderr (append mode); the caller closes it after spawning. */
  static openForChild(file: string): number {
    return openSync(file, 'a', 0o600);
  }

  /** Poll every `intervalMs`. */
  start(intervalMs = 100): void {
    if (this.timer || this.closed) return;
    this.timer = setInterval(() => void this.drain(), intervalMs);
    this.timer.unref();
  }

  /** Read everything written so far (lines reach onLine before this resolves). */
  drain(): Promise<void> {
    this.chain = this.chain.then(() => this.readAll()).catch(() => undefined);
    return this.chain;
  }

  /** Final read (the unterminated last line too), stop polling; `remove` deletes the spool. */
  async close(remove: boolean): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.drain();
    this.closed = true;
    this.splitter.push(this.decoder.end());
    this.splitter.flush();
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
    if (remove) await rm(this.file, { force: true });
  }

  private async readAll(): Promise<void> {
    if (this.closed) return;
    this.handle ??= await open(this.file, 'r+');
    const buffer = Buffer.alloc(READ_CHUNK);
    for (;;) {
      const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, this.offset);
      if (bytesRead === 0) break;
      this.offset += bytesRead;
      this.splitter.push(this.decoder.write(buffer.subarray(0, bytesRead)));
    }
    // All read: start the spool over, unless something arrived meanwhile (then next time).
    if (this.offset > 0 && (await this.handle.stat()).size === this.offset) {
      await this.handle.truncate(0);
      this.offset = 0;
    }
  }
}
