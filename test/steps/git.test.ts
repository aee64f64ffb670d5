import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { isOrchardError } from '../../engine/core/errors.js';
import { gitStep } from '../../engine/steps/git.js';
import { tempDir } from '../helpers/paths.js';
import { makeTestApp, plannedStep, stepContext, type TestApp } from './context.js';

let root: string;
let cleanup: () => Promise<void>;
let repo: string;
let first: string;
let second: string;

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'protocol.file.allow=always', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();

before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard git '));
  const lib = path.join(root, 'lib repo');
  await mkdir(lib);
  git(lib, 'init', '-q', '-b', 'main');
  await writeFile(path.join(lib, 'lib.txt'), 'library\n');
  git(lib, 'add', '.');
  git(lib, 'commit', '-qm', 'lib');

  repo = path.join(root, 'app repo');
  await mkdir(repo);
  git(repo, 'init', '-q', '-b', 'main');
  await writeFile(path.join(repo, 'main.py'), 'print("v1")\n');
  git(repo, 'submodule', 'add', '-q', lib, 'vendor/lib');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'v1');
  first = git(repo, 'rev-parse', 'HEAD');
  await writeFile(path.join(repo, 'main.py'), 'print("v2")\n');
  git(repo, 'commit', '-qam', 'v2');
  git(repo, 'tag', 'v2.0');
  second = git(repo, 'rev-parse', 'HEAD');
});
after(() => cleanup());

/** Submodules here are local paths, which git refuses by default since 2.38; the sandbox HOME's config allows it. */
async function appWithFileProtocol(name: string): Promise<TestApp> {
  const t = await makeTestApp(path.join(root, name));
  await writeFile(path.join(t.app.home, '.gitconfig'), '[protocol "file"]\n\tallow = always\n');
  return t;
}

test('clones at the pinned commit with submodules, records it, and a re-run is a no-op', async () => {
  const t = await appWithFileProtocol('pinned');
  const step = plannedStep('git', { url: repo, ref: first, pinned: true, dest: t.app.app, submodules: true });
  const out = await gitStep(step, await stepContext(t, step.key));
  assert.deepEqual(out.outputs, { commit: first });
  assert.equal(await readFile(path.join(t.app.app, 'main.py'), 'utf8'), 'print("v1")\n');
  assert.equal(await readFile(path.join(t.app.app, 'vendor', 'lib', 'lib.txt'), 'utf8'), 'library\n', 'submodule checked out');
  assert.equal(git(t.app.app, 'rev-parse', 'HEAD'), first);
  assert.equal(existsSync(path.join(t.app.tmp, 'git-clone-git-0')), false, 'no partial clone left behind');

  // Extra untracked files (e.g. an extracted payload) do not disturb the no-op check.
  await writeFile(path.join(t.app.app, 'config.json'), '{}\n');
  const ctx = await stepContext(t, step.key);
  const again = await gitStep(step, ctx);
  assert.deepEqual(again.outputs, { commit: first });
  assert.match(await readFile(ctx.log.file, 'utf8'), /already at/);
  assert.equal(await readFile(path.join(t.app.app, 'config.json'), 'utf8'), '{}\n');

  // A new pin (an update) moves the existing checkout.
  const moved = await gitStep({ ...step, params: { ...step.params, ref: second } }, await stepContext(t, step.key));
  assert.deepEqual(moved.outputs, { commit: second });
  assert.equal(await readFile(path.join(t.app.app, 'main.py'), 'utf8'), 'print("v2")\n');
});

test('a branch or a tag resolves to its commit', async () => {
  const t = await makeTestApp(path.join(root, 'branch'));
  const byBranch = await gitStep(
    plannedStep('git', { url: repo, ref: 'main', pinned: false, dest: t.app.app, submodules: false }),
    await stepContext(t, 'git-0'),
  );
  assert.deepEqual(byBranch.outputs, { commit: second });
  const t2 = await makeTestApp(path.join(root, 'tag'));
  const byTag = await gitStep(
    plannedStep('git', { url: repo, ref: 'v2.0', pinned: false, dest: path.join(t2.app.app, 'sub dir'), submodules: false }),
    await stepContext(t2, 'git-0'),
  );
  assert.deepEqual(byTag.outputs, { commit: second });
  assert.equal(await readFile(path.join(t2.app.app, 'sub dir', 'main.py'), 'utf8'), 'print("v2")\n');
});

test('a half-made checkout (crash after the clone, before the checkout; leftover partial clone) is recovered', async () => {
  const t = await appWithFileProtocol('half');
  // What a crash leaves: a stale partial clone in tmp/, and a .git whose work tree was never checked out.
  await mkdir(path.join(t.app.tmp, 'git-clone-git-0', 'junk'), { recursive: true });
  git(root, 'clone', '-q', '--no-checkout', repo, t.app.app);
  assert.equal(existsSync(path.join(t.app.app, 'main.py')), false);
  const step = plannedStep('git', { url: repo, ref: second, pinned: true, dest: t.app.app, submodules: true });
  const out = await gitStep(step, await stepContext(t, step.key));
  assert.deepEqual(out.outputs, { commit: second });
  assert.equal(await readFile(path.join(t.app.app, 'main.py'), 'utf8'), 'print("v2")\n');
  assert.ok(existsSync(path.join(t.app.app, 'vendor', 'lib', 'lib.txt')));

  // A tracked file damaged by hand is restored on the next run.
  await rm(path.join(t.app.app, 'main.py'));
  await gitStep(step, await stepContext(t, step.key));
  assert.equal(await readFile(path.join(t.app.app, 'main.py'), 'utf8'), 'print("v2")\n');
});

test('an unknown commit or repository fails clearly; a destination outside the app is refused', async () => {
  const t = await makeTestApp(path.join(root, 'bad'));
  const missing = 'f'.repeat(40);
  await assert.rejects(
    gitStep(
      plannedStep('git', { url: repo, ref: missing, pinned: true, dest: t.app.app, submodules: false }),
      await stepContext(t, 'git-0'),
    ),
    (err: unknown) => {
      assert.ok(isOrchardError(err) && err.code === 'STEP_FAILED');
      assert.match(err.message, new RegExp(`commit "${missing}" was not found`));
      assert.match(err.where ?? '', /install\/git-0 \(git step at \/install\/0\)/);
      return true;
    },
  );
  await assert.rejects(
    gitStep(
      plannedStep('git', {
        url: path.join(root, 'no such repo'),
        ref: first,
        pinned: true,
        dest: path.join(t.app.app, 'x'),
        submodules: false,
      }),
      await stepContext(t, 'git-1'),
    ),
    (err: unknown) => {
      assert.ok(isOrchardError(err) && err.code === 'STEP_FAILED');
      assert.match(err.message, /git clone of .*no such repo failed/);
      return true;
    },
  );
  const outside = path.join(root, 'elsewhere');
  await assert.rejects(
    gitStep(plannedStep('git', { url: repo, ref: first, pinned: true, dest: outside, submodules: false }), await stepContext(t, 'git-2')),
    (err: unknown) => {
      assert.ok(isOrchardError(err) && err.code === 'PATH_ESCAPE');
      return true;
    },
  );
  assert.equal(existsSync(outside), false);
});
