import type { ServerResponse } from 'node:http';

/**
 * Writes go out at most this often; events that arrive in between are queued and sent together.
 *
 * Why: a socket write per token (a writev, ~11 µs of main-thread time in a profile, plus waking the
 * client) sits next to the token loop of the tiny benchmark model, which makes a token every ~1 ms;
 * grouping cuts those writes 4–8× (bench/llm could not separate the gain from this VM's noise). A
 * model this product is for (8B–405B: 10–100 tokens/s) makes a token every 10 ms or more, so each
 * of its tokens still goes out alone and at once; only faster streams are grouped, by at most this
 * delay, which nobody reading the text can see.
 */
export const SSE_MIN_WRITE_INTERVAL_MS = 8;

/**
 * The event stream of one streamed response, kept off the token loop's critical path.
 *
 * The first event is written at once (time to first token). A later event is written on the next
 * `setImmediate` turn when the last write is older than {@link SSE_MIN_WRITE_INTERVAL_MS} (that
 * turn runs after node-llama-cpp 3.21.1 has handed the next decode to its worker thread, so the
 * write overlaps the decode), else when that interval has passed. Same events, same order, same
 * bytes; only how many share one write changes.
 */
export class SseWriter {
  private pending = '';
  /** Cancels the scheduled write, if one is scheduled. */
  private cancel: (() => void) | undefined;
  private lastWriteAt = 0;
  private wroteFirst = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly minIntervalMs = SSE_MIN_WRITE_INTERVAL_MS,
  ) {}

  /** Queue one `data:` event whose payload is already serialised JSON (or `[DONE]`). */
  event(json: string): void {
    if (this.closed()) return;
    this.pending += `data: ${json}\n\n`;
    if (!this.wroteFirst) {
      this.wroteFirst = true;
      this.flush();
      return;
    }
    if (this.cancel !== undefined) return;
    const wait = this.lastWriteAt + this.minIntervalMs - performance.now();
    if (wait <= 0) {
      const immediate = setImmediate(this.flush);
      this.cancel = () => clearImmediate(immediate);
    } else {
      const timeout = setTimeout(this.flush, wait);
      this.cancel = () => clearTimeout(timeout);
    }
  }

  /** Write what is queued plus these last events, and end the response. */
  end(json: string[]): void {
    this.cancelTimer();
    if (this.closed()) return;
    const tail = this.pending + json.map((j) => `data: ${j}\n\n`).join('');
    this.pending = '';
    this.res.end(tail);
  }

  /** Write what is queued now (also the scheduled callback; a later call finds nothing to do). */
  readonly flush = (): void => {
    this.cancelTimer();
    if (this.pending.length === 0 || this.closed()) return;
    const out = this.pending;
    this.pending = '';
    this.lastWriteAt = performance.now();
    this.res.write(out);
  };

  private cancelTimer(): void {
    this.cancel?.();
    this.cancel = undefined;
  }

  private closed(): boolean {
    return this.res.writableEnded || this.res.destroyed;
  }
}
