import type { DownloadEvent, Emit } from '../../core/events.js';

const WINDOW_MS = 5_000;

/**
 * Turns byte counts into DownloadEvents at most `perSecond` times a second per file, with the
 * speed over the last few seconds and the ETA from it. The final event (done) is never dropped.
 */
export class DownloadProgress {
  private samples: { at: number; bytes: number }[] = [];
  private lastEmit = 0;
  private readonly minGapMs: number;

  constructor(
    private readonly emit: Emit,
    private readonly base: { file: string; url: string; app?: string },
    o: { perSecond?: number } = {},
  ) {
    this.minGapMs = 1000 / (o.perSecond ?? 4);
  }

  update(bytesDone: number, bytesTotal: number | undefined, now = Date.now()): void {
    this.samples.push({ at: now, bytes: bytesDone });
    while (this.samples.length > 2 && this.samples[0]!.at < now - WINDOW_MS) this.samples.shift();
    if (now - this.lastEmit < this.minGapMs) return;
    this.lastEmit = now;
    this.emit(this.event(bytesDone, bytesTotal, now, false));
  }

  finish(bytesDone: number, bytesTotal: number | undefined, averageBytesPerSecond: number): void {
    this.emit({ ...this.event(bytesDone, bytesTotal, Date.now(), true), bytesPerSecond: Math.round(averageBytesPerSecond) });
  }

  private event(bytesDone: number, bytesTotal: number | undefined, now: number, done: boolean): DownloadEvent {
    const first = this.samples[0];
    const span = first ? (now - first.at) / 1000 : 0;
    const speed = first && span > 0 ? Math.max(0, (bytesDone - first.bytes) / span) : 0;
    const eta = bytesTotal !== undefined && speed > 0 ? Math.max(0, (bytesTotal - bytesDone) / speed) : undefined;
    return {
      type: 'download',
      ...(this.base.app ? { app: this.base.app } : {}),
      file: this.base.file,
      url: this.base.url,
      bytesDone,
      ...(bytesTotal !== undefined ? { bytesTotal } : {}),
      bytesPerSecond: Math.round(speed),
      ...(eta !== undefined && !done ? { etaSeconds: Math.round(eta * 10) / 10 } : {}),
      ...(done ? { done: true } : {}),
    };
  }
}
