import assert from 'node:assert/strict';
import { open, readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { tempDir } from '../helpers/paths.js';
import { writeTinyGguf } from '../helpers/tiny-gguf.js';
import { runFailingService } from './service-helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let good: string;

before(async () => {
  const t = await tempDir();
  dir = t.dir;
  cleanup = t.cleanup;
  good = path.join(dir, 'good.gguf');
  await writeTinyGguf(good, { mode: 'successor' });
});
after(async () => cleanup?.());

test('--gpu metal on a machine without Metal exits with a clear error, never a CPU run', {
  skip: process.platform === 'darwin',
}, async () => {
  const r = await runFailingService(good, ['--gpu', 'metal'], 30_000);
  assert.equal(r.code, 1, r.output);
  assert.match(r.output, /--gpu metal was requested but node-llama-cpp loaded the cpu backend/);
  assert.doesNotMatch(r.output, /orchard llm ready/);
});

test('a GGUF header followed by garbage fails fast with a clear error (llama.cpp would hang)', async () => {
  const file = path.join(dir, 'garbage.gguf');
  const junk = Buffer.alloc(4096, 0xab);
  junk.writeUInt32LE(0x46554747, 0);
  junk.writeUInt32LE(3, 4);
  await writeFile(file, junk);
  const r = await runFailingService(file, ['--load-timeout', '10'], 20_000);
  assert.equal(r.code, 1, r.output);
  assert.match(r.output, /beyond any real model|corrupt/);
  assert.ok(r.ms < 15_000);
});

test('a truncated model is refused before llama.cpp sees it', async () => {
  const file = path.join(dir, 'truncated.gguf');
  await writeFile(file, await readFile(good));
  await truncate(file, 100_000);
  const r = await runFailingService(file, [], 20_000);
  assert.equal(r.code, 1, r.output);
  assert.match(r.output, /truncated/);
});

test('a header without feed_forward_length is refused (llama.cpp would abort the process)', async () => {
  const file = path.join(dir, 'noff.gguf');
  await writeTinyGguf(file, { mode: 'random', omitKeys: ['llama.feed_forward_length'] });
  const r = await runFailingService(file, [], 20_000);
  assert.equal(r.code, 1, r.output);
  assert.match(r.output, /lacks llama\.feed_forward_length/);
  assert.notEqual(r.code, 134);
});

test('not a GGUF at all', async () => {
  const file = path.join(dir, 'text.gguf');
  const fh = await open(file, 'w');
  await fh.write('this is not a model, just text padded out '.repeat(10));
  await fh.close();
  const r = await runFailingService(file, [], 20_000);
  assert.equal(r.code, 1);
  assert.match(r.output, /not a GGUF file/);
});
