/** One line of a service's output, as kept in memory and streamed to subscribers. */
export interface ServiceLogLine {
  type: 'log';
  app: string;
  stream: 'stdout' | 'stderr' | 'system';
  line: string;
  /** Epoch ms. */
  time: number;
  run: number;
}

/** The last N lines of one app's output (older lines fall off). */
export class LogRing {
  private readonly lines: (ServiceLogLine | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`log ring capacity must be a positive integer, got ${capacity}`);
    this.lines = new Array<ServiceLogLine | undefined>(capacity);
  }

  push(line: ServiceLogLine): void {
    this.lines[this.next] = line;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** Oldest first; `limit` keeps only the newest ones. */
  toArray(limit = this.count): ServiceLogLine[] {
    const n = Math.max(0, Math.min(limit, this.count));
    const out: ServiceLogLine[] = [];
    for (let i = this.count - n; i < this.count; i++) {
      const line = this.lines[(this.next - this.count + i + this.capacity) % this.capacity];
      if (line) out.push(line);
    }
    return out;
  }

  get size(): number {
    return this.count;
  }
}
