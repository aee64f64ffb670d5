import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { InOrderHasher } from '../../engine/store/download/in-order-hasher.js';
import { cacheDropper } from '../../engine/store/download/page-cache-drop.js';
import { RangeSet } from '../../engine/store/download/range-set.js';
import { tempDir } from '../helpers/paths.js';

const MiB = 2 ** 20;
let root: string;
let cleanup: () => Promise<void>;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard page-cache '));
});
after(async () => cleanup());

/** Bytes of `file` in the page cache, as util-linux's fincore reports them (mincore). */
function cachedBytes(file: string): number {
  return Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' }).trim());
}

/** Why this machine cannot show page-cache residency, or undefined when it can. */
function cannotObserve(): string | undefined {
  if (process.platform !== 'linux') return 'posix_fadvise drops pages on Linux only';
  try {
    execFileSync('fincore', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'fincore (util-linux) is not installed';
  }
  // tmpfs pages are the file itself: the kernel never drops them.
  if (execFileSync('stat', ['-f', '-c', '%T', root], { encoding: 'utf8' }).trim() === 'tmpfs') return 'the temp folder is on tmpfs';
  return undefined;
}

/** A file of `size` random bytes, on disk (fsynced) and read back so that all of it is cached. */
async function cachedFile(name: string, size: number): Promise<{ file: string; data: Buffer }> {
  const file = path.join(root, name);
  const data = randomBytes(size);
  const fh = await open(file, 'w');
  await fh.write(data, 0, data.length, 0);
  await fh.sync();
  await fh.close();
  await readFile(file);
  return { file, data };
}

test('the dropper evicts the prefix it is given from the page cache, and nothing past it', async (t) => {
  const why = cannotObserve();
  if (why) return t.skip(why);
  const { file, data } = await cachedFile('prefix.bin', 16 * MiB);
  assert.equal(cachedBytes(file), 16 * MiB, 'all of the file is cached before');
  const drop = await cacheDropper(file);
  assert.ok(drop, 'Node has a WASI host here');
  drop(10 * MiB);
  assert.equal(cachedBytes(file), 6 * MiB, 'the first 10 MiB left the cache, the last 6 MiB stayed');
  assert.ok((await readFile(file)).equals(data), 'the bytes are unchanged');
});

test('the hash worker drops what it has hashed, and the digest is unchanged', async (t) => {
  const why = cannotObserve();
  if (why) return t.skip(why);
  const { file, data } = await cachedFile('hashed.bin', 150 * MiB);
  const done = new RangeSet();
  done.add(0, data.length);
  const hasher = new InOrderHasher(file, done);
  try {
    assert.equal(await hasher.finish(), createHash('sha256').update(data).digest('hex'));
  } finally {
    await hasher.close();
  }
  // It drops every 64 MiB hashed: at 64 and 128 MiB, so at most the last 22 MiB stay cached.
  const cached = cachedBytes(file);
  assert.ok(cached <= 22 * MiB, `only the tail stays cached (${cached / MiB} MiB)`);
});
