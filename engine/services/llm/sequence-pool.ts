import type { LlamaContext, LlamaContextSequence } from 'node-llama-cpp';
import { ApiError } from '../../openai/api-error.js';

/**
 * The context's sequences (one per --parallel slot), lent to one request at a time. Waiting
 * requests queue in arrival order; a request that goes away while waiting leaves the queue.
 * A returned sequence is cleared before it is lent again, at return time rather than at the start
 * of the next request, so the next request's time to first token does not include it.
 */
export class SequencePool {
  private readonly free: LlamaContextSequence[] = [];
  private readonly waiters: { resolve: (s: LlamaContextSequence) => void; reject: (e: Error) => void }[] = [];
  private idleWaiters: (() => void)[] = [];
  /** Returned, being cleared: neither free nor generating. */
  private clearing = 0;
  readonly size: number;

  constructor(context: LlamaContext, size: number) {
    for (let i = 0; i < size; i++) this.free.push(context.getSequence());
    this.size = size;
  }

  get queueDepth(): number {
    return this.waiters.length;
  }

  /** Sequences generating for a request. */
  get active(): number {
    return this.size - this.free.length - this.clearing;
  }

  acquire(signal: AbortSignal): Promise<LlamaContextSequence> {
    const seq = this.free.pop();
    if (seq) return Promise.resolve(seq);
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      this.waiters.push(waiter);
      signal.addEventListener(
        'abort',
        () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new ApiError(499, 'client closed the request', 'invalid_request_error'));
        },
        { once: true },
      );
    });
  }

  release(seq: LlamaContextSequence): void {
    this.clearing++;
    // A failed clear leaves tokens the next generation erases itself (it keeps only a matching prefix).
    void seq
      .clearHistory()
      .catch(() => undefined)
      .then(() => {
        this.clearing--;
        const next = this.waiters.shift();
        if (next) next.resolve(seq);
        else this.free.push(seq);
        if (this.free.length === this.size) for (const idle of this.idleWaiters.splice(0)) idle();
      });
  }

  /** Resolves once every sequence is back (shutdown waits for this before freeing the model). */
  whenIdle(): Promise<void> {
    if (this.free.length === this.size) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  rejectWaiting(reason: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(reason);
  }
}
