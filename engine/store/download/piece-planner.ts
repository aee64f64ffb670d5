import type { Segment } from './body-pump.js';
import type { ByteRange } from './range-set.js';

const MiB = 2 ** 20;
const MIN_PIECE = 1 * MiB;
const MAX_PIECE = 64 * MiB;

/**
 * Hands out the bytes a file still misses as pieces, in file order, one per request.
 *
 * Pieces are large while much is left (few requests) and shrink towards the end of the file:
 * each is about 1/(2 × connections) of what nobody has taken yet. Two things follow. The last
 * pieces are small, so the connections finish together instead of one of them fetching a
 * 64 MiB piece alone. And since pieces go out in order, the contiguous prefix that the hash
 * follows trails the newest piece by at most one round of pieces: when the last byte lands, only
 * a few MiB are left to hash instead of hundreds.
 */
export class PiecePlanner {
  private readonly gaps: ByteRange[];
  private unassigned: number;

  constructor(
    missing: readonly ByteRange[],
    private readonly connections: number,
  ) {
    this.gaps = missing.filter(([s, e]) => e > s).map(([s, e]): ByteRange => [s, e]);
    this.unassigned = this.gaps.reduce((n, [s, e]) => n + (e - s), 0);
  }

  /** Bytes not yet handed out. */
  get left(): number {
    return this.unassigned;
  }

  /** The next piece in file order, or undefined once every missing byte has been handed out. */
  next(): Segment | undefined {
    const gap = this.gaps[0];
    if (!gap) return undefined;
    const [start, gapEnd] = gap;
    const end = this.connections === 1 ? gapEnd : Math.min(gapEnd, start + pieceSize(this.unassigned, this.connections));
    if (end >= gapEnd) this.gaps.shift();
    else gap[0] = end;
    this.unassigned -= end - start;
    return { pos: start, received: start, end };
  }
}

/** The size of the next piece when `unassigned` bytes are left for `connections` connections. */
export function pieceSize(unassigned: number, connections: number): number {
  const target = Math.ceil(unassigned / (2 * connections) / MiB) * MiB;
  return Math.min(MAX_PIECE, Math.max(MIN_PIECE, target));
}
