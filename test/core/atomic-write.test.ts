import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { writeFileAtomic, writeJsonAtomic } from '../../engine/core/atomic-write.js';
import { tempDir } from '../helpers/paths.js';

test('atomic write replaces content and leaves no temp files', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const file = path.join(dir, 'sub dir', 'state.json');
    await writeJsonAtomic(file, { a: 1 });
    await writeJsonAtomic(file, { a: 2 });
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { a: 2 });
    assert.deepEqual(await readdir(path.dirname(file)), ['state.json']);
  } finally {
    await cleanup();
  }
});

test('atomic write applies the requested mode', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const file = path.join(dir, 'secret.json');
    await writeFileAtomic(file, '{}', 0o600);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  } finally {
    await cleanup();
  }
});
