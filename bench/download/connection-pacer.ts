import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How far a connection may fall behind its schedule and still catch up: what a kernel's socket
 * buffers absorb, and enough to hide this server's own timer lateness (one Node thread pacing
 * eight connections), which would otherwise count against the client.
 */
const CATCH_UP_MS = 50;

/**
 * A per-connection rate limit, as a CDN paces a TCP connection: the bytes of every response on
 * one connection share one schedule. Time the connection spends idle (between two requests, or
 * while its client is not reading) is saved up for a burst only up to CATCH_UP_MS. So a client
 * gains nothing from cutting a file into many requests, and loses what it long fails to read.
 */
export class ConnectionPacer {
  /** When the next piece may go out (performance.now() milliseconds). */
  private nextAt = 0;

  constructor(private readonly bytesPerSecond: number) {}

  /** Wait until `bytes` more may be sent on this connection. */
  async take(bytes: number): Promise<void> {
    const wait = this.nextAt - performance.now();
    if (wait > 1) await sleep(wait);
    this.nextAt = Math.max(this.nextAt, performance.now() - CATCH_UP_MS) + (bytes / this.bytesPerSecond) * 1000;
  }
}
