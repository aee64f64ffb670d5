import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes } from '../../shared/format-bytes.js';
import { formatBytes as storeFormatBytes } from '../../engine/store/index.js';

test('one byte formatter, binary units, for the CLI and the UI', () => {
  assert.equal(storeFormatBytes, formatBytes, 'the store re-exports the shared formatter');
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1023), '1023 B');
  assert.equal(formatBytes(1024), '1.0 KiB');
  assert.equal(formatBytes(3_000_000), '2.9 MiB');
  assert.equal(formatBytes(8 * 2 ** 30), '8.0 GiB');
  assert.equal(formatBytes(undefined), 'unknown');
  assert.equal(formatBytes(Number.NaN), 'unknown');
});
