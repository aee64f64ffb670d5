import { setTimeout as sleep } from 'node:timers/promises';
import { OrchardError } from '../../core/errors.js';
import { TransientError } from './download-errors.js';
import { displayUrl } from '../../core/hub-auth.js';

/** What the retry policy needs of a download's options. */
export interface RetryOptions {
  signal?: AbortSignal | undefined;
  log?: (line: string) => void;
  /** Failed attempts in a row without progress before a source is given up (default 6). */
  maxRetries?: number;
  /** First backoff pause; doubles each time, capped at 15 s (default 500 ms). */
  retryBaseMs?: number;
}

export function cancelled(url: string): OrchardError {
  return new OrchardError('CANCELLED', 'download cancelled', {
    where: displayUrl(url),
    hint: 'Run it again: it resumes from the bytes already on disk.',
  });
}

/**
 * Run `fn` until it succeeds, retrying TransientErrors with backoff; the user's cancel wins.
 *
 * Why not p-retry: the limit depends on the error and on whether this source ever answered
 * (retryLimit: a refused first contact gets two quick tries, a refusal mid-download six), the pause
 * must end at once on cancel and turn into a CANCELLED error naming the URL, and each retry is
 * logged in the download's own words. With p-retry that is shouldRetry + onFailedAttempt + signal
 * glue around the same three functions, plus a dependency, for no line saved.
 */
export async function withRetries<T>(what: string, url: string, o: RetryOptions, fn: () => Promise<T>, firstContact = false): Promise<T> {
  for (let failures = 1; ; failures++) {
    try {
      return await fn();
    } catch (err) {
      if (o.signal?.aborted) throw cancelled(url);
      if (!(err instanceof TransientError) || failures > retryLimit(err, o, firstContact)) throw err;
      const pause = backoffMs(failures, o);
      o.log?.(`${what} failed (${err.message}); retry ${failures} in ${pause} ms`);
      await sleep(pause, undefined, o.signal ? { signal: o.signal } : {}).catch(() => undefined);
    }
  }
}

/**
 * A refused connection before any byte came from this source is most often a wrong port or a
 * server that is not running: two quick retries (1.5 s) rather than six (30 s) before the next
 * mirror or the error. Refusals in the middle of a download keep the full count (a restart).
 */
function retryLimit(err: TransientError, o: RetryOptions, firstContact: boolean): number {
  const limit = o.maxRetries ?? 6;
  return firstContact && err.code === 'ECONNREFUSED' ? Math.min(2, limit) : limit;
}

export function backoffMs(failures: number, o: RetryOptions): number {
  const base = o.retryBaseMs ?? 500;
  return Math.min(15_000, base * 2 ** (failures - 1));
}
