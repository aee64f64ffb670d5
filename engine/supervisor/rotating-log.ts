import { appendFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

export interface RotatingLogOptions {
  /** Rotate when the file reaches this size. */
  maxBytes: number;
  /** How many rotated files (`name.1` … `name.N`) to keep. */
  keepRotated: number;
}

/**
 * An append-only log file that rotates by size: `run.log` → `run.log.1` → … → dropped.
 * Writes are queued and batched so a chatty service never blocks the event loop on disk.
 */
export class RotatingLog {
  private pending: string[] = [];
  private size = -1;
  private chain: Promise<void> = Promise.resolve();
  private scheduled = false;
  private lastError: unknown;

  constructor(
    readonly file: string,
    private readonly options: RotatingLogOptions,
  ) {}

  write(line: string): void {
    this.pending.push(line.endsWith('\n') ? line : `${line}\n`);
    if (!this.scheduled) {
      this.scheduled = true;
      this.chain = this.chain.then(() => this.drain());
    }
  }

  /** Resolve once everything written so far is on disk. */
  async flush(): Promise<void> {
    await this.chain;
    if (this.pending.length > 0) {
      this.chain = this.chain.then(() => this.drain());
      await this.chain;
    }
  }

  /** The last write error, if any (log files must never crash the supervisor). */
  get error(): unknown {
    return this.lastError;
  }

  private async drain(): Promise<void> {
    this.scheduled = false;
    while (this.pending.length > 0) {
      const batch = this.takeBatch();
      try {
        if (this.size < 0) {
          await mkdir(path.dirname(this.file), { recursive: true });
          this.size = await stat(this.file).then(
            (s) => s.size,
            () => 0,
          );
        }
        if (this.size > 0 && this.size + Buffer.byteLength(batch) > this.options.maxBytes) await this.rotate();
        await appendFile(this.file, batch);
        this.size += Buffer.byteLength(batch);
      } catch (err) {
        this.lastError = err;
      }
    }
  }

  /** At most about maxBytes per append, so a file overshoots its limit by one line at most. */
  private takeBatch(): string {
    let bytes = 0;
    let n = 0;
    const room = Math.max(1, this.options.maxBytes - Math.max(0, this.size));
    while (n < this.pending.length) {
      const len = Buffer.byteLength(this.pending[n] ?? '');
      if (n > 0 && bytes + len > room) break;
      bytes += len;
      n++;
    }
    return this.pending.splice(0, n).join('');
  }

  private async rotate(): Promise<void> {
    await rm(`${this.file}.${this.options.keepRotated}`, { force: true });
    for (let i = this.options.keepRotated - 1; i >= 1; i--) {
      await rename(`${this.file}.${i}`, `${this.file}.${i + 1}`).catch(() => undefined);
    }
    if (this.options.keepRotated > 0) await rename(this.file, `${this.file}.1`);
    else await rm(this.file, { force: true });
    this.size = 0;
  }
}

/** Keep the newest `keep` run logs (and their rotated files) of one app; delete older ones. */
export async function pruneRunLogs(logDir: string, prefix: string, keep: number): Promise<void> {
  const names = await readdir(logDir).catch(() => [] as string[]);
  const runs = [...new Set(names.filter((n) => n.startsWith(prefix)).map((n) => n.replace(/\.log(\.\d+)?$/, '.log')))].sort();
  const old = runs.slice(0, Math.max(0, runs.length - keep));
  for (const run of old) {
    for (const name of names) if (name === run || name.startsWith(`${run}.`)) await rm(path.join(logDir, name), { force: true });
  }
}
