/**
 * Internal outcomes of one HTTP exchange that decide what the downloader does next. None of these
 * reaches the user: they are turned into OrchardError (DOWNLOAD, AUTH, INTEGRITY) with URL and fix.
 */

/** Worth retrying on the same source after a pause: 5xx, 408/429, resets, timeouts, stalls, truncation. */
export class TransientError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'TransientError';
  }
}

/** The host name does not exist (DNS said so, not "try again"): no retry, try the next mirror. */
export class UnknownHostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownHostError';
  }
}

/** The remote file is not the one the partial bytes came from: start again from byte 0. */
export class RemoteChangedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RemoteChangedError';
  }
}

/** A redirect target (signed CDN URL) no longer answers: resolve the original URL again. */
export class ExpiredTargetError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ExpiredTargetError';
  }
}

/** A definitive HTTP answer (404, 400…): this source will not work; try the next mirror. */
export class HttpStatusError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'HttpStatusError';
  }
}

export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}
