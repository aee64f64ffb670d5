import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { isOrchardError } from '../../engine/core/errors.js';
import { writeStep } from '../../engine/steps/write.js';
import { tempDir } from '../helpers/paths.js';
import { makeTestApp, plannedStep, stepContext, type TestApp } from './context.js';

let root: string;
let cleanup: () => Promise<void>;
let t: TestApp;
before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard write '));
  t = await makeTestApp(root);
});
after(() => cleanup());

test('writes the content atomically with its mode, creating folders; rewriting replaces it', async () => {
  const file = path.join(t.app.app, 'conf dir', 'settings.json');
  await writeStep(plannedStep('write', { path: file, content: '{"a":1}\n', mode: 0o600 }), await stepContext(t, 'write-0'));
  assert.equal(await readFile(file, 'utf8'), '{"a":1}\n');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  await writeStep(plannedStep('write', { path: file, content: 'two\n', mode: 0o755 }), await stepContext(t, 'write-0'));
  assert.equal(await readFile(file, 'utf8'), 'two\n');
  assert.equal((await stat(file)).mode & 0o777, 0o755);
});

test('a path outside the app folder, or through a symlink leading out, is refused', async () => {
  const outside = path.join(root, 'outside.txt');
  await assert.rejects(
    writeStep(plannedStep('write', { path: outside, content: 'x', mode: 0o644 }), await stepContext(t, 'write-1')),
    (err: unknown) => {
      assert.ok(isOrchardError(err) && err.code === 'PATH_ESCAPE');
      assert.match(err.where ?? '', /install\/write-0 \(write step/);
      return true;
    },
  );
  await symlink(root, path.join(t.app.app, 'link out'));
  await assert.rejects(
    writeStep(
      plannedStep('write', { path: path.join(t.app.app, 'link out', 'outside.txt'), content: 'x', mode: 0o644 }),
      await stepContext(t, 'write-2'),
    ),
    (err: unknown) => isOrchardError(err) && err.code === 'PATH_ESCAPE' && /symbolic link/.test(err.message),
  );
  assert.equal(existsSync(outside), false);
});
