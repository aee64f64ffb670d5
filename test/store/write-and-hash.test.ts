import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, truncate, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { InOrderHasher } from '../../engine/store/download/in-order-hasher.js';
import { RangeSet } from '../../engine/store/download/range-set.js';
import { SerialWriter } from '../../engine/store/download/serial-writer.js';
import { tempDir } from '../helpers/paths.js';

const MiB = 2 ** 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let root: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard write-and-hash '));
});
after(async () => cleanup());

/** 1 MiB pieces of `data` in a scrambled order, each split into 64 KiB chunks like socket reads. */
function scrambledPieces(data: Buffer): { start: number; chunks: Buffer[] }[] {
  const pieces: { start: number; chunks: Buffer[] }[] = [];
  for (let start = 0; start < data.length; start += MiB) {
    const piece = data.subarray(start, Math.min(data.length, start + MiB));
    const chunks: Buffer[] = [];
    for (let at = 0; at < piece.length; at += 65536) chunks.push(piece.subarray(at, at + 65536));
    pieces.push({ start, chunks });
  }
  // Deterministic shuffle: every odd piece first, then the even ones backwards.
  return [...pieces.filter((_, i) => i % 2 === 1), ...pieces.filter((_, i) => i % 2 === 0).reverse()];
}

/** A new part file with its ranges and a hasher on it, all closed afterwards. */
async function withHasher(name: string, fn: (fh: FileHandle, done: RangeSet, hasher: InOrderHasher) => Promise<void>): Promise<void> {
  const file = path.join(root, name);
  const fh = await open(file, 'w+');
  const done = new RangeSet();
  const hasher = new InOrderHasher(file, done);
  try {
    await fn(fh, done, hasher);
  } finally {
    await hasher.close();
    await fh.close();
  }
}

test('concurrent writes through the serial writer land byte for byte, never two at once', async () => {
  const data = randomBytes(9 * MiB + 777);
  const file = path.join(root, 'serial.part');
  const fh = await open(file, 'w+');
  let inFlight = 0;
  let maxInFlight = 0;
  const realWritev = fh.writev.bind(fh);
  // Observe the real writes: how many are running at the same moment.
  fh.writev = (async (buffers: NodeJS.ArrayBufferView[], position?: number) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      return await realWritev(buffers, position);
    } finally {
      inFlight--;
    }
  }) as typeof fh.writev;
  try {
    const writer = new SerialWriter(fh);
    await Promise.all(scrambledPieces(data).map((p) => writer.write(p.chunks, p.start)));
  } finally {
    await fh.close();
  }
  assert.equal(maxInFlight, 1, 'one write at a time');
  assert.ok((await readFile(file)).equals(data));
});

test('the writer keeps the disk in step in the background, and sync() waits for everything', async () => {
  const data = randomBytes(9 * MiB + 3);
  const file = path.join(root, 'synced.part');
  const fh = await open(file, 'w+');
  const events: string[] = [];
  let syncing = false;
  const realDatasync = fh.datasync.bind(fh);
  const realSync = fh.sync.bind(fh);
  // A slow disk: each background fdatasync takes 30 ms.
  fh.datasync = async () => {
    syncing = true;
    events.push('datasync');
    await new Promise((r) => setTimeout(r, 30));
    await realDatasync();
    syncing = false;
    events.push('datasync done');
  };
  fh.sync = async () => {
    events.push('sync');
    await realSync();
  };
  const realWritev = fh.writev.bind(fh);
  fh.writev = (async (buffers: NodeJS.ArrayBufferView[], position?: number) => {
    events.push(syncing ? 'write during datasync' : 'write');
    return realWritev(buffers, position);
  }) as typeof fh.writev;
  try {
    const writer = new SerialWriter(fh, 2 * MiB);
    for (let at = 0; at < data.length; at += MiB) await writer.write([data.subarray(at, at + MiB)], at);
    await writer.sync();
  } finally {
    await fh.close();
  }
  assert.ok(events.includes('datasync'), 'a background datasync after 2 MiB');
  assert.ok(events.includes('write during datasync'), 'writes go on while the disk catches up');
  assert.equal(events[events.length - 1], 'sync', 'the final fsync comes last');
  assert.ok(events.lastIndexOf('datasync done') < events.indexOf('sync'), 'sync() waits for the background datasync');
  assert.ok((await readFile(file)).equals(data));
});

test('a failed background datasync is reported by sync()', async () => {
  const file = path.join(root, 'sync-fails.part');
  const fh = await open(file, 'w+');
  fh.datasync = () => Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
  try {
    const writer = new SerialWriter(fh, MiB);
    await writer.write([randomBytes(MiB)], 0);
    await assert.rejects(writer.sync(), /EIO/);
  } finally {
    await fh.close();
  }
});

test('the hasher follows the contiguous prefix of out-of-order writes and gives the whole-file sha256', async () => {
  const data = randomBytes(7 * MiB + 4321);
  await withHasher('hashed.part', async (fh, done, hasher) => {
    for (const p of scrambledPieces(data)) {
      const length = p.chunks.reduce((n, c) => n + c.length, 0);
      await fh.writev(p.chunks, p.start);
      done.add(p.start, p.start + length);
      hasher.kick();
    }
    assert.equal(await hasher.finish(), sha(data));
    assert.equal(hasher.hashed, data.length);
  });
});

test('after a reset the hasher starts again from byte 0 (a server without Range restarted the file)', async () => {
  const first = randomBytes(3 * MiB);
  const second = randomBytes(2 * MiB + 5);
  await withHasher('restarted.part', async (fh, done, hasher) => {
    await fh.write(first, 0, first.length, 0);
    done.add(0, first.length);
    hasher.kick();
    await hasher.reset();
    done.clear();
    await fh.truncate(0);
    await fh.write(second, 0, second.length, 0);
    done.add(0, second.length);
    hasher.kick();
    assert.equal(await hasher.finish(), sha(second));
  });
});

test('a part file shorter than its recorded ranges is an error, not a wrong hash', async () => {
  const data = randomBytes(2 * MiB);
  const file = path.join(root, 'short.part');
  const fh = await open(file, 'w+');
  await fh.write(data, 0, data.length, 0);
  await fh.close();
  await truncate(file, MiB);
  const done = new RangeSet();
  done.add(0, data.length);
  const hasher = new InOrderHasher(file, done);
  try {
    await assert.rejects(hasher.finish(), /shorter than its recorded ranges \(at byte 1048576\)/);
  } finally {
    await hasher.close();
  }
});
