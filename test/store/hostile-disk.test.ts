import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, link, lstat, mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { downloadFile } from '../../engine/store/download/download.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { startRangeServer, type RangeServer } from '../helpers/range-server.js';

/**
 * Issue 22, escapes 3 and 4: the disk under the store is hostile. A symlink planted as a part file
 * (with a forged sidecar) must not be written through; a blob changed in place must not be reused.
 */
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const MiB = 2 ** 20;

let root: string;
let cleanup: () => Promise<void>;
let server: RangeServer;
const weight = randomBytes(3 * MiB + 17);
const other = randomBytes(MiB + 3);

before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard hostile disk '));
  server = await startRangeServer({ 'w.bin': weight, 'o.bin': other });
});
after(async () => {
  await server.close();
  await cleanup();
});

/** A recipe with one pinned weight; `plant` adds a run step (argv, no shell string) that plants a symlink. */
async function writeRecipe(id: string, file: string, o: { plant?: { target: string; link: string } } = {}): Promise<string> {
  const dir = path.join(root, 'recipes', id);
  await mkdir(dir, { recursive: true });
  const plant = o.plant
    ? [
        {
          kind: 'run',
          id: 'plant',
          network: false,
          command: ['sh', '-c', 'ln -sf "$0" "$1" 2>/dev/null; exit 0', o.plant.target, o.plant.link],
        },
      ]
    : [];
  await writeFile(
    path.join(dir, 'recipe.json'),
    JSON.stringify({
      id,
      name: id,
      version: '1.0.0',
      kind: 'tool',
      weights: [{ id: 'w', url: server.url('w.bin'), file, size: weight.length, sha256: sha(weight) }],
      install: [...plant, { kind: 'fetch' }, { kind: 'link', weight: 'w' }],
    }),
  );
  return dir;
}

test(
  'escape 3: a symlink planted as the part file, with a forged sidecar, is never written through; the blob stored is a ' + 'regular file',
  async () => {
    const home = path.join(root, 'home symlink');
    const outside = path.join(root, 'outside');
    await mkdir(outside, { recursive: true });
    const target = path.join(outside, 'precious.txt');
    const precious = 'my precious file, outside ORCHARD_HOME\n';
    await writeFile(target, precious);
    // Planted as the downloader names it (store/tmp/<sha>.part), by a previous run step or any
    // hostile writer: a symlink to the file outside, and a sidecar claiming the first bytes are done.
    const tmp = path.join(home, 'store', 'tmp');
    const part = path.join(tmp, `${sha(weight)}.part`);
    await mkdir(tmp, { recursive: true });
    await symlink(target, part);
    await writeFile(
      `${part}.json`,
      JSON.stringify({
        version: 1,
        sourceUrl: server.url('w.bin'),
        finalUrl: server.url('w.bin'),
        validators: { size: weight.length },
        expectedSha256: sha(weight),
        done: [[0, 16]],
        sequential: false,
        hashedThrough: 0,
        updatedAt: new Date().toISOString(),
      }),
    );
    // The recipe plants it too, from a run step (where confinement still lets it write there).
    const recipe = await writeRecipe('planter', 'w.bin', { plant: { target, link: part } });

    const result = await runCli(['install', recipe], { home });
    assert.equal(await readFile(target, 'utf8'), precious, 'the file outside ORCHARD_HOME is untouched');
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.ok((await lstat(target)).isFile());
    const blob = path.join(home, 'store', 'blobs', 'sha256', sha(weight));
    const b = await lstat(blob);
    assert.ok(b.isFile() && !b.isSymbolicLink(), 'the blob is a regular file');
    assert.equal(sha(await readFile(blob)), sha(weight), 'the blob holds the weight');
    assert.equal(sha(await readFile(path.join(home, 'apps', 'planter', 'models', 'w.bin'))), sha(weight));
    assert.ok(!existsSync(part), 'nothing is left at the part name');
  },
);

test(
  'a part file that is a hardlink, a FIFO or a folder, and sidecars that are forged or links, are refused: the download ' + 'starts over',
  async () => {
    const dir = path.join(root, 'direct');
    await mkdir(dir, { recursive: true });
    const outside = path.join(root, 'outside direct.txt');
    const precious = 'never overwrite me\n';
    const sidecar = (o: Record<string, unknown> = {}) =>
      JSON.stringify({
        version: 1,
        sourceUrl: server.url('o.bin'),
        finalUrl: server.url('o.bin'),
        validators: { size: other.length },
        expectedSha256: sha(other),
        done: [[0, 64]],
        sequential: false,
        hashedThrough: 0,
        updatedAt: '',
        ...o,
      });
    const cases: { name: string; plant: (part: string) => Promise<void> }[] = [
      {
        name: 'hardlink',
        plant: async (part) => {
          await link(outside, part);
          await writeFile(`${part}.json`, sidecar());
        },
      },
      {
        name: 'fifo',
        plant: async (part) => {
          execFileSync('mkfifo', [part]);
          await writeFile(`${part}.json`, sidecar());
        },
      },
      {
        name: 'folder',
        plant: async (part) => {
          await mkdir(path.join(part, 'inside'), { recursive: true });
          await writeFile(`${part}.json`, sidecar());
        },
      },
      {
        name: 'sidecar symlink',
        plant: async (part) => {
          await writeFile(part, Buffer.alloc(other.length));
          await writeFile(`${outside}.json`, sidecar());
          await symlink(`${outside}.json`, `${part}.json`);
        },
      },
      {
        name: 'ranges beyond size',
        plant: async (part) => {
          await writeFile(part, Buffer.alloc(other.length));
          await writeFile(`${part}.json`, sidecar({ done: [[0, other.length + 4096]] }));
        },
      },
      {
        name: 'size mismatch',
        plant: async (part) => {
          await writeFile(part, Buffer.alloc(other.length));
          await writeFile(`${part}.json`, sidecar({ validators: { size: other.length + 1 }, done: [[0, 64]] }));
        },
      },
      // Shaped right, our own regular file, and a lie: the bytes it claims are zeros. The hash shows it; once more from byte 0.
      {
        name: 'forged ranges',
        plant: async (part) => {
          await writeFile(part, Buffer.alloc(other.length));
          await writeFile(`${part}.json`, sidecar());
        },
      },
      {
        name: 'wrong sha',
        plant: async (part) => {
          await writeFile(part, Buffer.alloc(other.length));
          await writeFile(`${part}.json`, sidecar({ expectedSha256: 'f'.repeat(64) }));
        },
      },
    ];
    for (const c of cases) {
      await writeFile(outside, precious);
      const part = path.join(dir, `${c.name}.part`);
      await c.plant(part);
      const lines: string[] = [];
      const r = await downloadFile({
        urls: [server.url('o.bin')],
        partFile: part,
        expectedSha256: sha(other),
        expectedSize: other.length,
        log: (l) => lines.push(l),
      });
      assert.equal(r.sha256, sha(other), c.name);
      assert.equal(r.reusedBytes, 0, `${c.name}: no byte of the planted file is reused`);
      assert.equal(await readFile(outside, 'utf8'), precious, `${c.name}: the outside file is untouched`);
      if (c.name === 'sidecar symlink')
        assert.equal(await readFile(`${outside}.json`, 'utf8'), sidecar(), 'the sidecar link target is untouched');
      const s = await lstat(part);
      assert.ok(s.isFile() && s.nlink === 1, `${c.name}: the part is our own regular file`);
      assert.equal(sha(await readFile(part)), sha(other), c.name);
    }
  },
);

test('escape 4: a blob changed in place is not reused: the next install downloads it again and links sound bytes', async () => {
  const home = path.join(root, 'home corrupt');
  const first = await runCli(['install', await writeRecipe('first-app', 'w.bin')], { home });
  assert.equal(first.code, 0, first.stderr);
  const blob = path.join(home, 'store', 'blobs', 'sha256', sha(weight));
  // What a process with a hardlink (the app's models/ entry) can do: chmod u+w, write, restore the mode.
  const appFile = path.join(home, 'apps', 'first-app', 'models', 'w.bin');
  await chmod(appFile, 0o644);
  await writeFile(appFile, Buffer.concat([Buffer.from('POISON'), weight.subarray(6)]));
  await chmod(appFile, 0o444);
  assert.notEqual(sha(await readFile(blob)), sha(weight), 'the shared blob is corrupt now');

  const served = server.bytesServed;
  const second = await runCli(['install', await writeRecipe('second-app', 'model.bin')], { home });
  assert.equal(second.code, 0, second.stderr);
  assert.doesNotMatch(second.stdout + second.stderr, /already in the store/);
  assert.ok(server.bytesServed - served >= weight.length, 'the weight was downloaded again');
  assert.equal(
    sha(await readFile(path.join(home, 'apps', 'second-app', 'models', 'model.bin'))),
    sha(weight),
    'the new app has sound bytes',
  );
  assert.equal(sha(await readFile(blob)), sha(weight), 'the store holds sound bytes again');

  // Unchanged since it was hashed: a third app reuses it without downloading.
  const before = server.bytesServed;
  const third = await runCli(['install', await writeRecipe('third-app', 'w.bin'), '--json'], { home });
  assert.equal(third.code, 0, third.stderr);
  assert.equal(server.bytesServed, before, 'a blob proven unchanged by its record is reused');
});

test('store verify --repair downloads a corrupt blob again from its recorded URL and re-links the apps that use it', async () => {
  const home = path.join(root, 'home repair');
  const installed = await runCli(['install', await writeRecipe('repair-app', 'w.bin')], { home });
  assert.equal(installed.code, 0, installed.stderr);
  const appFile = path.join(home, 'apps', 'repair-app', 'models', 'w.bin');
  await chmod(appFile, 0o644);
  await writeFile(appFile, Buffer.concat([weight.subarray(0, 100), Buffer.from('X'), weight.subarray(101)]));
  await chmod(appFile, 0o444);

  const verify = await runCli(['store', 'verify', '--json'], { home });
  assert.equal(verify.code, 1, verify.stdout);
  const report = parseJson<{ corrupt: { sha256: string }[] }>(verify);
  assert.deepEqual(
    report.corrupt.map((c) => c.sha256),
    [sha(weight)],
  );

  const served = server.bytesServed;
  const repair = await runCli(['store', 'verify', '--repair', '--json'], { home });
  assert.equal(repair.code, 0, repair.stdout + repair.stderr);
  const repaired = parseJson<{ ok: boolean; repaired: { sha256: string; relinked: string[] }[] }>(repair);
  assert.equal(repaired.ok, true);
  assert.deepEqual(
    repaired.repaired.map((r) => r.sha256),
    [sha(weight)],
  );
  assert.deepEqual(repaired.repaired[0]?.relinked, [appFile]);
  assert.ok(server.bytesServed - served >= weight.length, 'downloaded again from the loopback server');
  assert.equal(sha(await readFile(path.join(home, 'store', 'blobs', 'sha256', sha(weight)))), sha(weight));
  assert.equal(sha(await readFile(appFile)), sha(weight), "the app's model is sound again");
  const again = await runCli(['store', 'verify', '--json'], { home });
  assert.equal(again.code, 0, again.stdout);
  assert.deepEqual(await readdir(path.join(home, 'store', 'tmp')), [], 'no partial, lock or staging file is left');

  // A symlink planted under a blob's name is reported too (and never hashed through).
  await symlink(appFile, path.join(home, 'store', 'blobs', 'sha256', sha(other)));
  const planted = await runCli(['store', 'verify', '--json'], { home });
  assert.equal(planted.code, 1, planted.stdout);
  const plantedReport = parseJson<{ corrupt: { sha256: string; why?: string }[] }>(planted);
  assert.deepEqual(
    plantedReport.corrupt.map((c) => [c.sha256, c.why]),
    [[sha(other), 'it is a symbolic link']],
  );
});
