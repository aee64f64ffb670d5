import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseJson, runCli } from '../helpers/cli.js';
import { cliEntry, tempDir } from '../helpers/paths.js';

let root: string;
let home: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard cli '));
  home = path.join(root, 'home with space');
});
after(() => cleanup());

test('recipe new writes a starter (llm and tool) that validates and plans', async () => {
  for (const kind of ['llm', 'tool']) {
    const made = await runCli(['recipe', 'new', `my-${kind}`, '--kind', kind, '--out', root, '--json'], { home });
    assert.equal(made.code, 0, made.stderr);
    const { file } = parseJson<{ file: string }>(made);
    const checked = await runCli(['recipe', 'validate', file, '--json'], { home });
    assert.deepEqual(parseJson(checked), { ok: true, file, errors: [] });
    const plan = await runCli(['plan', file, '--profile', 'darwin-arm64-metal', '--json'], { home });
    assert.equal(plan.code, 0, plan.stderr);
  }
  const again = await runCli(['recipe', 'new', 'my-llm', '--kind', 'llm', '--out', root], { home });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already exists/);
  const badKind = await runCli(['recipe', 'new', 'x-y', '--kind', 'music', '--out', root], { home });
  assert.equal(badKind.code, 2);
});

test('list shows a user recipe; run and shell enter the app environment', async () => {
  const recipeDir = path.join(home, 'recipes', 'tiny-tool');
  const { mkdir, writeFile } = await import('node:fs/promises');
  await mkdir(recipeDir, { recursive: true });
  await writeFile(
    path.join(recipeDir, 'recipe.json'),
    JSON.stringify({
      id: 'tiny-tool',
      name: 'Tiny tool',
      version: '1.0.0',
      kind: 'tool',
      install: [{ kind: 'write', path: 'app/hello.txt', content: 'hello\n' }],
    }),
  );
  const listed = parseJson<{ recipes: { id: string; source: string; installed: string | null }[] }>(
    await runCli(['list', '--json'], { home }),
  );
  assert.deepEqual(
    listed.recipes.find((r) => r.id === 'tiny-tool'),
    { ...listed.recipes.find((r) => r.id === 'tiny-tool'), source: 'user', installed: null },
  );

  const notYet = await runCli(['run', 'tiny-tool', '--', 'cat', 'hello.txt'], { home });
  assert.equal(notYet.code, 1);
  assert.match(notYet.stderr, /tiny-tool is not installed/);

  assert.equal((await runCli(['install', 'tiny-tool'], { home })).code, 0);
  const ran = await runCli(['run', 'tiny-tool', '--', 'sh', '-c', 'cat hello.txt; echo "$HOME"; exit 3'], { home });
  assert.equal(ran.code, 3, 'the command exit code is passed through');
  assert.equal(ran.stdout, `hello\n${path.join(home, 'apps', 'tiny-tool', 'home')}\n`);

  const shellOut = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [cliEntry, 'shell', 'tiny-tool'],
      { env: { ...process.env, ORCHARD_HOME: home, SHELL: '/bin/sh' } },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    );
    child.stdin?.end('echo "app=$ORCHARD_APP tmp=$TMPDIR"; pwd\n');
  });
  const appRoot = path.join(home, 'apps', 'tiny-tool');
  assert.match(shellOut, new RegExp(`app=tiny-tool tmp=${appRoot.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/tmp`));
  assert.match(shellOut, new RegExp(`${path.join(appRoot, 'app').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
  assert.equal(await readFile(path.join(appRoot, 'app', 'hello.txt'), 'utf8'), 'hello\n');
});

test('usage errors exit 2, user-facing errors exit 1 with one message and no stack', async () => {
  const usage = await runCli(['plan'], { home });
  assert.equal(usage.code, 2);
  const missing = await runCli(['install', 'no-such-app'], { home });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: no recipe with id "no-such-app"/);
  assert.doesNotMatch(missing.stderr, /\bat .*\.js:\d+/);
  const help = await runCli(['--help'], { home });
  assert.equal(help.code, 0);
  for (const command of ['list', 'plan', 'install', 'update', 'uninstall', 'recipe', 'shell', 'run'])
    assert.match(help.stdout, new RegExp(`\\b${command}\\b`));
});
