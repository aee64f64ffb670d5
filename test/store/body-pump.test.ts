import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { pumpBody, type Segment } from '../../engine/store/download/body-pump.js';
import { TransientError } from '../../engine/store/download/download-errors.js';
import { InOrderHasher } from '../../engine/store/download/in-order-hasher.js';
import { RangeSet } from '../../engine/store/download/range-set.js';
import { SerialWriter } from '../../engine/store/download/serial-writer.js';
import { tempDir } from '../helpers/paths.js';

const MiB = 2 ** 20;
let root: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard body-pump '));
});
after(async () => cleanup());

test('a connection that fails while its batch is being written: the pump returns once the batch is on disk and recorded', async () => {
  const file = path.join(root, 'reset.part');
  const fh = await open(file, 'w+');
  const done = new RangeSet();
  const hasher = new InOrderHasher(file, done);
  // A slow disk: each write takes 150 ms, long enough for the connection to fail meanwhile.
  let writeStarted!: () => void;
  const writing = new Promise<void>((resolve) => (writeStarted = resolve));
  const realWritev = fh.writev.bind(fh);
  fh.writev = (async (buffers: NodeJS.ArrayBufferView[], position?: number) => {
    writeStarted();
    await sleep(150);
    return realWritev(buffers, position);
  }) as typeof fh.writev;
  try {
    const body = new PassThrough();
    const seg: Segment = { pos: 0, received: 0, end: 4 * MiB };
    const pumped = pumpBody({ status: 206, headers: {}, body, close: (reason) => body.destroy(reason) }, seg, {
      writer: new SerialWriter(fh),
      done,
      hasher,
      onWritten: () => undefined,
      stallMs: 30_000,
    });
    // Exactly one batch (1 MiB, in socket-sized chunks): nothing is left over for a last write.
    const data = randomBytes(MiB);
    for (let at = 0; at < data.length; at += 65536) body.write(data.subarray(at, at + 65536));
    await writing;
    body.destroy(new Error('read ECONNRESET'));

    await assert.rejects(pumped, (err: unknown) => err instanceof TransientError && /ECONNRESET/.test(err.message));
    // A retry starts from seg.pos: it must already cover every byte received, written and recorded.
    assert.equal(seg.received, MiB);
    assert.equal(seg.pos, MiB, 'the pump returned before its batch was written');
    assert.deepEqual(done.toJSON(), [[0, MiB]]);
    assert.ok((await readFile(file)).equals(data));
  } finally {
    await hasher.close();
    await fh.close();
  }
});
