import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PiecePlanner, pieceSize } from '../../engine/store/download/piece-planner.js';
import type { ByteRange } from '../../engine/store/download/range-set.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

function allPieces(missing: ByteRange[], connections: number): ByteRange[] {
  const planner = new PiecePlanner(missing, connections);
  const out: ByteRange[] = [];
  for (let p = planner.next(); p; p = planner.next()) {
    assert.equal(p.pos, p.received, 'a new piece has received nothing yet');
    out.push([p.pos, p.end]);
  }
  assert.equal(planner.left, 0);
  return out;
}

test('pieces cover exactly the missing bytes, in file order, without overlap', () => {
  const missing: ByteRange[] = [
    [0, 100 * MiB + 7],
    [200 * MiB, 300 * MiB],
    [301 * MiB, 301 * MiB + 1],
  ];
  const pieces = allPieces(missing, 8);
  // Merging consecutive pieces gives back the gaps.
  const merged: ByteRange[] = [];
  for (const [s, e] of pieces) {
    assert.ok(e > s, 'no empty piece');
    const last = merged[merged.length - 1];
    if (last && last[1] === s) last[1] = e;
    else {
      if (last) assert.ok(s > last[1], 'in order, no overlap');
      merged.push([s, e]);
    }
  }
  assert.deepEqual(merged, missing);
});

test('pieces are large while much is left and small at the end of a big file', () => {
  const pieces = allPieces([[0, 4 * GiB]], 8);
  const sizes = pieces.map(([s, e]) => e - s);
  assert.equal(sizes[0], 64 * MiB, 'the first pieces are the largest allowed');
  assert.ok(sizes.every((n) => n <= 64 * MiB && n >= MiB));
  for (let i = 1; i < sizes.length; i++) assert.ok(sizes[i]! <= sizes[i - 1]!, 'never larger than the piece before');
  // The last round (one piece per connection) is small: the hash trails the last byte by little.
  const lastRound = sizes.slice(-8).reduce((a, b) => a + b, 0);
  assert.ok(lastRound <= 16 * MiB, `last round ${lastRound / MiB} MiB`);
  // And the whole file still takes a bounded number of requests.
  assert.ok(pieces.length < 200, `${pieces.length} requests`);
});

test('one connection fetches each gap in one piece; the size rule is clamped', () => {
  assert.deepEqual(
    allPieces(
      [
        [0, 10 * GiB],
        [11 * GiB, 12 * GiB],
      ],
      1,
    ),
    [
      [0, 10 * GiB],
      [11 * GiB, 12 * GiB],
    ],
  );
  assert.equal(pieceSize(100 * GiB, 8), 64 * MiB);
  assert.equal(pieceSize(10, 8), MiB);
  assert.equal(pieceSize(48 * MiB, 8), 3 * MiB);
});
