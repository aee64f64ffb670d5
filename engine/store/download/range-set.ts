/**
 * A set of byte ranges [start, end) kept sorted and merged: what a partial download has on disk.
 * Small (one entry per gap), so it is cheap to persist after every chunk batch.
 */
export type ByteRange = [start: number, end: number];

export class RangeSet {
  private ranges: ByteRange[];

  constructor(ranges: readonly ByteRange[] = []) {
    this.ranges = [];
    for (const [s, e] of ranges) this.add(s, e);
  }

  add(start: number, end: number): void {
    if (end <= start) return;
    const out: ByteRange[] = [];
    let s = start;
    let e = end;
    let placed = false;
    for (const [rs, re] of this.ranges) {
      if (re < s) out.push([rs, re]);
      else if (rs > e) {
        if (!placed) out.push([s, e]);
        placed = true;
        out.push([rs, re]);
      } else {
        s = Math.min(s, rs);
        e = Math.max(e, re);
      }
    }
    if (!placed) out.push([s, e]);
    this.ranges = out;
  }

  clear(): void {
    this.ranges = [];
  }

  /** Bytes held. */
  total(): number {
    return this.ranges.reduce((sum, [s, e]) => sum + (e - s), 0);
  }

  /** End of the contiguous run that starts at byte 0 (0 when byte 0 is missing). */
  prefixEnd(): number {
    const first = this.ranges[0];
    return first && first[0] === 0 ? first[1] : 0;
  }

  /** The ranges of [0, size) not yet held, in order. */
  missing(size: number): ByteRange[] {
    const gaps: ByteRange[] = [];
    let at = 0;
    for (const [s, e] of this.ranges) {
      if (s > at) gaps.push([at, Math.min(s, size)]);
      at = Math.max(at, e);
      if (at >= size) break;
    }
    if (at < size) gaps.push([at, size]);
    return gaps.filter(([s, e]) => e > s);
  }

  toJSON(): ByteRange[] {
    return this.ranges.map(([s, e]) => [s, e]);
  }
}
