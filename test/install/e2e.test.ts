import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import * as tar from 'tar';
import type { AppState } from '../../engine/install/app-state.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { fixturesDir, tempDir } from '../helpers/paths.js';

let root: string;
let cleanup: () => Promise<void>;
let home: string;
let recipeDir: string;
let repo: string;
let commit: string;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard e2e '));
  home = path.join(root, 'Orchard Home');
  // The recipe folder ships the tarball and the probe script (read only for the install).
  recipeDir = path.join(root, 'my recipes', 'local-app');
  await cp(path.join(fixturesDir, 'install', 'local-app'), recipeDir, { recursive: true });
  const payload = path.join(root, 'payload src');
  await mkdir(path.join(payload, 'payload'), { recursive: true });
  await writeFile(path.join(payload, 'payload', 'readme.txt'), 'from the tarball\n');
  await tar.create({ gzip: true, file: path.join(recipeDir, 'payload.tar.gz'), cwd: payload }, ['payload']);
  // A real git repository with two commits; the recipe pins the first.
  repo = path.join(root, 'src repo');
  await mkdir(repo);
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  await writeFile(path.join(repo, 'main.py'), 'print("v1")\n');
  git('add', '.');
  git('commit', '-qm', 'v1');
  commit = git('rev-parse', 'HEAD');
  await writeFile(path.join(repo, 'main.py'), 'print("v2")\n');
  git('commit', '-qam', 'v2');
});
after(() => cleanup());

const inputs = () => ['--input', `repo=${repo}`, '--input', `commit=${commit}`, '--input', 'greeting=hi there'];

test('install clones, extracts, makes a venv, runs isolated, writes config; reinstall skips; uninstall leaves nothing', async () => {
  const first = await runCli(['install', recipeDir, ...inputs(), '--json'], { home, timeoutMs: 240_000 });
  assert.equal(first.code, 0, first.stderr + first.stdout);
  const result = parseJson<{ ran: string[]; skipped: string[] }>(first);
  assert.deepEqual(result.ran, ['install:git-0', 'install:extract-1', 'install:env-2', 'install:isolation-probe', 'install:write-4']);

  const appRoot = path.join(home, 'apps', 'local-app');
  assert.equal(await readFile(path.join(appRoot, 'app', 'main.py'), 'utf8'), 'print("v1")\n', 'checked out at the pinned commit');
  assert.equal(await readFile(path.join(appRoot, 'app', 'payload', 'readme.txt'), 'utf8'), 'from the tarball\n');
  assert.ok(existsSync(path.join(appRoot, 'env', 'bin', 'python')), 'venv created');

  const probe = JSON.parse(await readFile(path.join(appRoot, 'probe.json'), 'utf8')) as Record<string, string | null>;
  const inside = (p: string | null | undefined) => typeof p === 'string' && (p === appRoot || p.startsWith(appRoot + path.sep));
  for (const key of [
    'HOME',
    'TMPDIR',
    'XDG_CACHE_HOME',
    'XDG_CONFIG_HOME',
    'PIP_CACHE_DIR',
    'UV_CACHE_DIR',
    'HF_HOME',
    'TORCH_HOME',
    'tempfile.gettempdir',
    'expanduser',
    'cwd',
  ]) {
    assert.ok(inside(probe[key]), `${key}=${probe[key]} must be inside ${appRoot}`);
  }
  assert.equal(probe['sys.prefix'], path.join(appRoot, 'env'), 'python runs from the app venv');
  assert.equal(probe['PYTHONNOUSERSITE'], '1');
  assert.equal(probe['PYTORCH_ENABLE_MPS_FALLBACK'], null, 'never set unless the recipe opts in');
  assert.equal(probe['TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'], null);

  const config = JSON.parse(await readFile(path.join(appRoot, 'app', 'config.json'), 'utf8')) as { greeting: string; models: string };
  assert.deepEqual(config, { greeting: 'hi there', models: path.join(appRoot, 'models') });

  const state = JSON.parse(await readFile(path.join(appRoot, 'state.json'), 'utf8')) as AppState;
  assert.equal(state.lifecycle, 'installed');
  assert.equal(state.journal['install:git-0']?.outputs?.['commit'], commit);
  assert.ok(existsSync(path.join(appRoot, 'logs')) && (await readdir(path.join(appRoot, 'logs'))).length >= 5, 'one log per step');

  const again = parseJson<{ ran: string[]; skipped: string[] }>(await runCli(['install', recipeDir, ...inputs(), '--json'], { home }));
  assert.deepEqual(again.ran, []);
  assert.equal(again.skipped.length, 5);

  // A changed input re-runs only the step it changes.
  const changed = parseJson<{ ran: string[] }>(await runCli(['update', 'local-app', '--input', 'greeting=changed', '--json'], { home }));
  assert.deepEqual(changed.ran, ['install:write-4']);

  const removed = await runCli(['uninstall', 'local-app', '--json'], { home });
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(existsSync(appRoot), false);
  assert.deepEqual(await readdir(path.join(home, 'apps')), []);
  assert.ok(existsSync(path.join(recipeDir, 'payload.tar.gz')), 'the recipe folder is untouched');
});

test('a failing step names the step, the command, the exit code and its log; state says failed', async () => {
  const badHome = path.join(root, 'bad home');
  const result = await runCli(['install', recipeDir, '--input', `repo=${path.join(root, 'no such repo')}`, '--input', `commit=${commit}`], {
    home: badHome,
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /error: /);
  assert.match(result.stderr, /where: .*recipe\.json:\/install\/0 \(git step/);
  assert.match(result.stderr, /Log: .*logs/);
  assert.doesNotMatch(result.stderr, /\n\s+at .*\.js:\d+/, 'no stack trace');
  const state = JSON.parse(await readFile(path.join(badHome, 'apps', 'local-app', 'state.json'), 'utf8')) as AppState;
  assert.equal(state.lifecycle, 'failed');
  assert.equal(state.journal['install:git-0']?.status, 'failed');
});
