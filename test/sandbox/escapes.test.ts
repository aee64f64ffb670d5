import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { detectConfinement } from '../../sandbox/confinement.js';
import { startTestServer } from '../api/helpers.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { startRangeServer, type RangeServer } from '../helpers/range-server.js';

/**
 * The escapes of issue 22, each tried by a real recipe installed with the real CLI under real
 * bubblewrap; what would escape is checked by its path. Skipped only where no sandbox can be made.
 */
let root: string;
let cleanup: () => Promise<void>;
let outside: string;
let skipReason: string | undefined;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard escapes '));
  outside = path.join(root, 'outside dir');
  await mkdir(outside, { recursive: true });
  const found = await detectConfinement();
  if (!found.available) skipReason = `no sandbox can be made here: ${found.note}`;
});
after(() => cleanup());

function skipped(t: TestContext): boolean {
  if (!skipReason) return false;
  t.skip(skipReason);
  return true;
}

/** A recipe folder under root/recipes/<id>, with extra files beside it. */
async function writeRecipe(id: string, recipe: Record<string, unknown>, files: Record<string, string> = {}): Promise<string> {
  const dir = path.join(root, 'recipes', id);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'recipe.json'), JSON.stringify({ id, name: id, version: '1.0.0', kind: 'tool', ...recipe }, null, 2));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

const homeFor = (name: string) => path.join(root, `${name} home`);

test(
  '(1) a verify probe of type command is confined: its write outside the app folder is refused; the plan says so per ' + 'step',
  async (t) => {
    if (skipped(t)) return;
    const marker = path.join(outside, 'probe-escaped.txt');
    const recipe = await writeRecipe('probe-escape', {
      install: [{ kind: 'verify' }],
      verify: {
        probe: { type: 'command', command: ['/bin/sh', '-c', 'echo pwned > "$1"; echo probed', 'sh', marker] },
        expect: [{ backend: 'cpu' }],
      },
    });
    const home = homeFor('probe');
    const result = await runCli(['install', recipe, '--json'], { home });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.equal(existsSync(marker), false, `the probe wrote ${marker} outside its app folder`);

    const plan = parseJson<{
      scripts: { install: { kind: string; confinement: { runs: string; confined: boolean; network: boolean } }[] };
    }>(await runCli(['plan', recipe, '--json'], { home }));
    assert.deepEqual(plan.scripts.install[0]?.confinement, { runs: 'process', confined: true, mechanism: 'bwrap', network: false });
    const text = await runCli(['plan', recipe], { home });
    assert.match(text.stdout, /\[verify\][^\n]*\n(.*\n)*?\s+confined: bwrap; network no/);

    // Where no sandbox can be made (bwrap not on PATH), the plan shows the step red and install refuses it.
    const noBwrap = { PATH: path.join(root, 'empty bin') };
    await mkdir(noBwrap.PATH, { recursive: true });
    const red = await runCli(['plan', recipe], { home, env: noBwrap });
    assert.match(red.stdout, /NOT CONFINED \(needs --allow-unconfined\)/);
    const refused = await runCli(['install', recipe], { home: homeFor('probe refused'), env: noBwrap });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /cannot be confined on this machine: install\/verify-0/);
    assert.match(refused.stderr, /--allow-unconfined/);
  },
);

test('(2) git on a repository a run step prepared runs no hook and no fsmonitor outside the sandbox', async (t) => {
  if (skipped(t)) return;
  const repo = path.join(root, 'hook repo');
  await mkdir(repo, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  await writeFile(path.join(repo, 'main.py'), 'print(1)\n');
  git('add', '.');
  git('commit', '-qm', 'v1');
  const commit = git('rev-parse', 'HEAD');
  const hookMarker = path.join(outside, 'hook-ran.txt');
  const fsmonitorMarker = path.join(outside, 'fsmonitor-ran.txt');
  const plant = [
    'set -e',
    'printf "#!/bin/sh\\necho hook > \\"%s\\"\\n" "$1" > .git/hooks/post-checkout',
    'chmod +x .git/hooks/post-checkout',
    'printf "#!/bin/sh\\necho fsmonitor > \\"%s\\"\\n" "$2" > .git/fsmonitor.sh',
    'chmod +x .git/fsmonitor.sh',
    'printf "[core]\\n\\tfsmonitor = %s\\n" "$PWD/.git/fsmonitor.sh" >> .git/config',
    'echo changed > main.py',
  ].join('\n');
  const recipe = await writeRecipe('git-hook', {
    inputs: { repo: { type: 'string', default: '/nowhere' }, commit: { type: 'string', default: commit } },
    install: [
      { kind: 'git', id: 'clone', url: '{{inputs.repo}}', ref: '{{inputs.commit}}' },
      { kind: 'run', id: 'plant', command: ['/bin/sh', '-c', plant, 'sh', hookMarker, fsmonitorMarker] },
      { kind: 'git', id: 'again', url: '{{app.dir}}', ref: '{{inputs.commit}}' },
    ],
  });
  const home = homeFor('git');
  const result = await runCli(['install', recipe, '--input', `repo=${repo}`, '--input', `commit=${commit}`, '--json'], { home });
  assert.equal(result.code, 0, result.stderr + result.stdout);
  const app = path.join(home, 'apps', 'git-hook', 'app');
  assert.ok(existsSync(path.join(app, '.git', 'hooks', 'post-checkout')), 'the run step planted the hook');
  assert.equal(await readFile(path.join(app, 'main.py'), 'utf8'), 'print(1)\n', 'the second git step did check out');
  assert.equal(existsSync(hookMarker), false, 'the planted post-checkout hook ran');
  assert.equal(existsSync(fsmonitorMarker), false, 'the planted core.fsmonitor ran');
});

test('(4) a run step cannot rewrite the shared blob behind its hardlinked models/ entry', async (t) => {
  if (skipped(t)) return;
  const weight = Buffer.from('the real weights\n'.repeat(64));
  const server: RangeServer = await startRangeServer({ 'w.bin': weight });
  try {
    const sha = server.sha256('w.bin');
    const poison = [
      'chmod u+w "$ORCHARD_MODELS_DIR/w.bin" 2>/dev/null; echo poisoned > "$ORCHARD_MODELS_DIR/w.bin" && echo wrote-models',
      'chmod u+w "$1" 2>/dev/null; echo poisoned > "$1" && echo wrote-store',
      'ln "$ORCHARD_MODELS_DIR/w.bin" "$ORCHARD_APP_DIR/copy.bin" 2>/dev/null && echo poisoned > "$ORCHARD_APP_DIR/copy.bin" && ' +
        'echo wrote-link',
      'true',
    ].join('; ');
    const recipe = await writeRecipe('blob-poison', {
      weights: [{ id: 'w', url: server.url('w.bin'), file: 'w.bin', sha256: sha, size: weight.length }],
      install: [
        { kind: 'fetch' },
        { kind: 'link', weight: 'w' },
        { kind: 'run', id: 'poison', command: ['/bin/sh', '-c', poison, 'sh', '{{app.root}}/../../store/blobs/sha256/' + sha] },
      ],
    });
    const home = homeFor('blob');
    const result = await runCli(['install', recipe, '--json', '-v'], { home });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const log = await readFile(path.join(home, 'apps', 'blob-poison', 'logs', await logNamed(home, 'blob-poison', 'poison')), 'utf8');
    assert.doesNotMatch(log, /^wrote-(models|store|link)$/m, log);
    assert.match(log, /Read-only file system/, 'the writes were refused by the sandbox');
    const store = parseJson<{ blobs?: { sha256: string; path: string }[] } | { sha256: string; path: string }[]>(
      await runCli(['store', 'ls', '--json'], { home }),
    );
    assert.ok(JSON.stringify(store).includes(sha), 'the blob is in the store');
    const models = path.join(home, 'apps', 'blob-poison', 'models', 'w.bin');
    assert.equal(
      createHash('sha256')
        .update(await readFile(models))
        .digest('hex'),
      sha,
      'the blob still has its hash',
    );
  } finally {
    await server.close();
  }
});

async function logNamed(home: string, id: string, key: string): Promise<string> {
  const { readdir } = await import('node:fs/promises');
  const names = await readdir(path.join(home, 'apps', id, 'logs'));
  const found = names.find((n) => n.includes(key));
  if (!found) throw new Error(`no log for ${key} among ${names.join(', ')}`);
  return found;
}

test('(5) a run step sees neither orchard.json, server.json, other apps nor the user home, so it cannot call the API', async (t) => {
  if (skipped(t)) return;
  const home = homeFor('secrets');
  await mkdir(home, { recursive: true });
  const server = await startTestServer(home);
  try {
    const userHome = path.join(root, 'user home');
    await mkdir(userHome, { recursive: true });
    await writeFile(path.join(userHome, 'secret.txt'), 'user secret\n');
    await mkdir(path.join(home, 'apps', 'other-app'), { recursive: true });
    await writeFile(path.join(home, 'apps', 'other-app', 'data.txt'), 'other app data\n');
    const attack = `
const fs = require('node:fs');
const [orchardHome, userHome, out] = process.argv.slice(2);
const tryRead = (p) => { try { return fs.readFileSync(p, 'utf8'); } catch (e) { return null; } };
const found = {
  orchardJson: tryRead(orchardHome + '/orchard.json'),
  serverJson: tryRead(orchardHome + '/server.json'),
  otherApp: tryRead(orchardHome + '/apps/other-app/data.txt'),
  userSecret: tryRead(userHome + '/secret.txt'),
  env: process.env,
};
(async () => {
  try {
    const token = JSON.parse(found.orchardJson).token;
    const port = JSON.parse(found.serverJson).port;
    const res = await fetch('http://127.0.0.1:' + port + '/api/v1/settings', { headers: { authorization: 'Bearer ' + token } });
    found.api = res.status;
  } catch (e) { found.api = String(e); }
  fs.writeFileSync(out, JSON.stringify(found));
})();
`;
    const recipe = await writeRecipe(
      'secret-app',
      {
        inputs: { userhome: { type: 'string', default: '/nowhere' } },
        install: [
          {
            kind: 'run',
            id: 'attack',
            network: true,
            command: ['node', '{{recipe.dir}}/attack.cjs', '{{app.root}}/../..', '{{inputs.userhome}}', '{{app.root}}/found.json'],
          },
        ],
      },
      { 'attack.cjs': attack },
    );
    const result = await runCli(['install', recipe, '--input', `userhome=${userHome}`, '--json'], {
      home,
      env: { HOME: userHome, HF_TOKEN: 'hf_SECRETSECRET', HUGGING_FACE_HUB_TOKEN: 'hf_SECRETSECRET' },
    });
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const found = JSON.parse(await readFile(path.join(home, 'apps', 'secret-app', 'found.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(found['orchardJson'], null, 'orchard.json (the API token) is visible');
    assert.equal(found['serverJson'], null, 'server.json is visible');
    assert.equal(found['otherApp'], null, "another app's folder is visible");
    assert.equal(found['userSecret'], null, "the user's home is visible");
    assert.notEqual(found['api'], 200, 'the step called the API with the token');
    assert.doesNotMatch(JSON.stringify(found['env']), /hf_SECRETSECRET/, 'the Hugging Face token reached the step');
    assert.doesNotMatch(JSON.stringify(found['env']), new RegExp(server.token), 'the API token reached the step');
  } finally {
    await server.server.close();
  }
});

test('(6) shell steps get inputs only as ORCHARD_INPUT_* variables; validate rejects {{inputs.*}} in shell text', async (t) => {
  const pasted = await writeRecipe('shell-pasted', {
    inputs: { name: { type: 'string', default: 'x' } },
    install: [{ kind: 'run', shell: true, command: 'echo {{inputs.name}} > out.txt' }],
  });
  const rejected = await runCli(['recipe', 'validate', path.join(pasted, 'recipe.json')], { home: homeFor('validate') });
  assert.equal(rejected.code, 1, rejected.stdout + rejected.stderr);
  const said = rejected.stdout + rejected.stderr;
  assert.match(said, /\/install\/0\/command/);
  assert.match(said, /use "\$ORCHARD_INPUT_NAME"/i);

  const nul = await writeRecipe('nul-path', { install: [{ kind: 'run', command: ['true'], cwd: 'app\u0000/x' }] });
  const nulResult = await runCli(['recipe', 'validate', path.join(nul, 'recipe.json')], { home: homeFor('validate') });
  assert.equal(nulResult.code, 1);
  assert.match(nulResult.stdout + nulResult.stderr, /\/install\/0\/cwd.*NUL/);

  if (skipped(t)) return;
  // Relative: it would land in the step's own (writable) app folder, so only "never run" keeps it absent.
  const marker = path.join(homeFor('shell'), 'apps', 'shell-env', 'app', 'X');
  const safe = await writeRecipe('shell-env', {
    inputs: { name: { type: 'string', default: 'x' } },
    install: [{ kind: 'run', shell: true, command: 'printf "%s" "$ORCHARD_INPUT_NAME" > out.txt' }],
  });
  const value = '$(touch X)';
  const result = await runCli(['install', safe, '--input', `name=${value}`, '--json'], { home: homeFor('shell') });
  assert.equal(result.code, 0, result.stderr + result.stdout);
  assert.equal(existsSync(marker), false, 'the input ran as shell code');
  assert.equal(
    await readFile(path.join(homeFor('shell'), 'apps', 'shell-env', 'app', 'out.txt'), 'utf8'),
    value,
    'the value arrives as data',
  );
});

test('a recipe service started through the API is confined the same way: no orchard.json, no user home, models read-only', async (t) => {
  if (skipped(t)) return;
  const home = homeFor('service');
  await mkdir(home, { recursive: true });
  const server = await startTestServer(home);
  try {
    const userHome = path.join(root, 'service user home');
    await mkdir(userHome, { recursive: true });
    await writeFile(path.join(userHome, 'secret.txt'), 'user secret\n');
    const service = `
import { createServer } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
const [orchardHome, userHome, out, port] = process.argv.slice(2);
const tryRead = (p) => { try { return readFileSync(p, 'utf8'); } catch { return null; } };
const tryWrite = (p) => { try { writeFileSync(p, 'x'); return true; } catch { return false; } };
writeFileSync(out, JSON.stringify({
  orchardJson: tryRead(orchardHome + '/orchard.json'),
  userSecret: tryRead(userHome + '/secret.txt'),
  wroteModels: tryWrite(orchardHome + '/apps/service-app/models/x'),
  wroteOutside: tryWrite(orchardHome + '/../service-escape.txt'),
}));
createServer((req, res) => res.end('ok')).listen(Number(port), '127.0.0.1');
`;
    const recipe = await writeRecipe(
      'service-app',
      {
        inputs: { userhome: { type: 'string', default: '/nowhere' } },
        install: [{ kind: 'write', path: 'app/ready.txt', content: 'ready\n' }],
        service: {
          type: 'command',
          command: [
            'node',
            '{{recipe.dir}}/service.mjs',
            '{{app.root}}/../..',
            '{{inputs.userhome}}',
            '{{app.root}}/found.json',
            '{{port}}',
          ],
          readiness: { http: '/', timeout: 20 },
        },
      },
      { 'service.mjs': service },
    );
    const { api } = await import('../api/helpers.js');
    // The server runs in this process: its idea of the user's home is $HOME (os.homedir()).
    const realHome = process.env['HOME'];
    process.env['HOME'] = userHome;
    t.after(() => {
      if (realHome === undefined) delete process.env['HOME'];
      else process.env['HOME'] = realHome;
    });
    const installed = await api<{ job: { id: string } }>(server, 'POST', '/apps/service-app/install', {
      recipe,
      inputs: { userhome: userHome },
    });
    assert.equal(installed.status, 202, installed.raw.body);
    for (let i = 0; i < 100 && !existsSync(path.join(home, 'apps', 'service-app', 'app', 'ready.txt')); i++)
      await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 300));
    const started = await api(server, 'POST', '/apps/service-app/start?wait=ready', {});
    assert.equal(started.status, 200, started.raw.body);
    const found = JSON.parse(await readFile(path.join(home, 'apps', 'service-app', 'found.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(found, { orchardJson: null, userSecret: null, wroteModels: false, wroteOutside: false });
    assert.equal(existsSync(path.join(root, 'service-escape.txt')), false);
    await api(server, 'POST', '/apps/service-app/stop', {});
  } finally {
    await server.server.close();
  }
});
