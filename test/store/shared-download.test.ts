import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { bufferContent, LoopbackServer } from '../../bench/download/loopback-server.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MiB = 2 ** 20;

let root: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard shared download '));
});
after(async () => cleanup());

async function recipe(id: string, url: string, data: Buffer): Promise<string> {
  const dir = path.join(root, 'recipes', id);
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'recipe.json'),
    JSON.stringify({
      id,
      name: id,
      version: '1.0.0',
      kind: 'tool',
      weights: [{ id: 'w', url, file: 'w.bin', size: data.length, sha256: sha(data) }],
      install: [{ kind: 'fetch' }, { kind: 'link', weight: 'w' }],
    }),
  );
  return dir;
}

test('two installs that need the same weight at once: the second waits for the first download and reuses the blob', async () => {
  const home = path.join(root, 'home shared');
  const data = randomBytes(4 * MiB);
  // About 8 s for the whole file (the planner opens a few connections for 4 MiB): the second
  // install starts well before the end, even on a loaded machine (waiting costs no CPU).
  const server = await new LoopbackServer({ ratePerConnection: 128 * 1024 }).start();
  try {
    server.files.set('/w.bin', { content: bufferContent(data), etag: '"w"' });
    const first = runCli(['install', await recipe('first-app', server.url('/w.bin'), data)], { home });
    for (let i = 0; i < 400 && server.bytesServed === 0; i++) await sleep(25);
    assert.ok(server.bytesServed > 0 && server.bytesServed < data.length, 'the first install is downloading');
    const second = runCli(['install', await recipe('second-app', server.url('/w.bin'), data)], { home });
    const [a, b] = await Promise.all([first, second]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.ok(server.bytesServed <= data.length * 1.02, `served ${server.bytesServed} bytes for a ${data.length}-byte file: one download`);
    for (const app of ['first-app', 'second-app']) {
      assert.equal(sha(await readFile(path.join(home, 'apps', app, 'models', 'w.bin'))), sha(data), app);
    }
    const logs = path.join(home, 'apps', 'second-app', 'logs');
    const text = (await Promise.all((await readdir(logs)).map((n) => readFile(path.join(logs, n), 'utf8')))).join('\n');
    assert.match(text, /another Orchard process \(pid \d+\) is downloading this file; waiting for it/);
  } finally {
    await server.stop();
  }
});

test('store gc racing an install: an install that starts while gc holds the store waits for it before it looks at the store', async () => {
  const home = path.join(root, 'home gc race');
  const data = randomBytes(256 * 1024);
  let firstRequestAt: number | undefined;
  const server = await new LoopbackServer({
    hook: () => {
      firstRequestAt ??= Date.now();
      return undefined;
    },
  }).start();
  try {
    server.files.set('/w.bin', { content: bufferContent(data), etag: '"w"' });
    await mkdir(path.join(home, 'store'), { recursive: true });
    // A `store gc` mid-run in another process: it holds store/gc.lock (it has checked that no
    // install runs and is deleting what no app references). It lets go 1 s after the install has
    // taken its app lock and written its state: the install must not look at the store until then.
    const gcLock = path.join(home, 'store', 'gc.lock');
    const state = path.join(home, 'apps', 'racing-app', 'state.json');
    const holder = spawn(process.execPath, [
      '-e',
      `const fs = require('node:fs');
       fs.writeFileSync(${JSON.stringify(gcLock)}, JSON.stringify({ pid: process.pid, operation: 'gc' }), { flag: 'wx' });
       console.log('held');
       const poll = setInterval(() => {
         if (!fs.existsSync(${JSON.stringify(state)})) return;
         clearInterval(poll);
         setTimeout(() => { const t = Date.now(); fs.unlinkSync(${JSON.stringify(gcLock)}); console.log('released ' + t); }, 1000);
       }, 20);`,
    ]);
    const lines = createInterface({ input: holder.stdout })[Symbol.asyncIterator]();
    assert.equal((await lines.next()).value, 'held');
    const install = runCli(['install', await recipe('racing-app', server.url('/w.bin'), data)], { home });
    const released = Number(String((await lines.next()).value).split(' ')[1]);
    const result = await install;
    assert.equal(result.code, 0, result.stderr);
    assert.ok(
      firstRequestAt !== undefined && firstRequestAt >= released,
      `the install's first request (${firstRequestAt}) came after gc let go (${released})`,
    );
    assert.equal(sha(await readFile(path.join(home, 'apps', 'racing-app', 'models', 'w.bin'))), sha(data));
  } finally {
    await server.stop();
  }
});
