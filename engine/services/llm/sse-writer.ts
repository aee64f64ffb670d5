import type { ServerResponse } from 'node:http';

/**
 * The event stream of one streamed response, kept off the token loop's critical path.
 *
 * Writing each event to the socket from the token callback put a writev syscall (35–60 µs on this
 * shared VM, about 5% of a token of the tiny benchmark model) between two decodes. Here the first
 * event is written at once (time to first token); later ones are queued and written on the next
 * `setImmediate` turn, which (traced with node-llama-cpp 3.21.1) runs after the library has handed
 * the next decode to its worker thread, so the write overlaps the decode when a core is free.
 * Events that pile up meanwhile go out in one write. Same events, same order, same bytes.
 */
export class SseWriter {
  private pending = '';
  private scheduled = false;
  private wroteFirst = false;

  constructor(private readonly res: ServerResponse) {}

  /** Queue one `data:` event whose payload is already serialised JSON (or `[DONE]`). */
  event(json: string): void {
    if (this.closed()) return;
    if (!this.wroteFirst) {
      this.wroteFirst = true;
      this.res.write(`data: ${json}\n\n`);
      return;
    }
    this.pending += `data: ${json}\n\n`;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Write what is queued plus these last events, and end the response. */
  end(json: string[]): void {
    if (this.closed()) return;
    const tail = this.pending + json.map((j) => `data: ${j}\n\n`).join('');
    this.pending = '';
    this.res.end(tail);
  }

  /** Write what is queued now (also the scheduled callback; a later call finds nothing to do). */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.pending.length === 0 || this.closed()) return;
    const out = this.pending;
    this.pending = '';
    this.res.write(out);
  };

  private closed(): boolean {
    return this.res.writableEnded || this.res.destroyed;
  }
}
