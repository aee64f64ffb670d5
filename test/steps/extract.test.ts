import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { Header } from 'tar';
import { isOrchardError } from '../../engine/core/errors.js';
import { extractStep } from '../../engine/steps/extract.js';
import { tempDir } from '../helpers/paths.js';
import { makeTestApp, plannedStep, stepContext, type TestApp } from './context.js';

interface RawEntry {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'FIFO';
  linkpath?: string;
  body?: string;
}

/** A tar archive written header by header, so it can hold what `tar.create` would never produce. */
function rawTar(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const type = e.type ?? 'File';
    const header = new Header({
      path: e.path,
      type,
      mode: type === 'Directory' ? 0o755 : 0o644,
      size: type === 'File' ? body.length : 0,
      mtime: new Date(1_700_000_000_000),
      uid: 0,
      gid: 0,
      ...(e.linkpath !== undefined ? { linkpath: e.linkpath } : {}),
    });
    const block = Buffer.alloc(512);
    header.encode(block, 0);
    blocks.push(block);
    if (type === 'File' && body.length > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

let root: string;
let cleanup: () => Promise<void>;
let t: TestApp;
before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard extract '));
  t = await makeTestApp(root);
});
after(() => cleanup());

async function extract(name: string, archive: Buffer, o: { strip?: number; dest?: string; gzip?: boolean } = {}) {
  const file = path.join(root, 'archives', `${name}.tar${o.gzip ? '.gz' : ''}`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, o.gzip ? gzipSync(archive) : archive);
  const dest = o.dest ?? path.join(t.app.app, name);
  const step = plannedStep('extract', { archive: file, dest, strip: o.strip ?? 0 }, { key: `extract ${name}` });
  return { dest, run: async () => extractStep(step, await stepContext(t, step.key)) };
}

async function listTree(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

test('a good .tar.gz is extracted, with strip, symlinks inside and paths with spaces', async () => {
  const archive = rawTar([
    { path: 'pkg-1.0/', type: 'Directory' },
    { path: 'pkg-1.0/read me.txt', body: 'hello\n' },
    { path: 'pkg-1.0/docs/', type: 'Directory' },
    { path: 'pkg-1.0/docs/link to readme', type: 'SymbolicLink', linkpath: '../read me.txt' },
    { path: 'pkg-1.0/hard copy', type: 'Link', linkpath: 'pkg-1.0/read me.txt' },
    { path: 'top-level-only' }, // removed by strip 1
  ]);
  const { dest, run } = await extract('good one', archive, { strip: 1, gzip: true });
  await run();
  assert.equal(await readFile(path.join(dest, 'read me.txt'), 'utf8'), 'hello\n');
  assert.equal(await readlink(path.join(dest, 'docs', 'link to readme')), '../read me.txt');
  assert.equal(await readFile(path.join(dest, 'docs', 'link to readme'), 'utf8'), 'hello\n');
  assert.equal((await lstat(path.join(dest, 'hard copy'))).nlink, 2, 'hard link inside is allowed');
  assert.deepEqual(await listTree(dest), ['docs', 'docs/link to readme', 'hard copy', 'read me.txt']);
});

const malicious: { name: string; entries: RawEntry[]; bad: string; why: RegExp }[] = [
  {
    name: 'dotdot',
    entries: [
      { path: 'ok.txt', body: 'fine' },
      { path: '../evil.txt', body: 'owned' },
    ],
    bad: '../evil.txt',
    why: /contains '\.\.'/,
  },
  { name: 'nested dotdot', entries: [{ path: 'a/../../evil.txt', body: 'owned' }], bad: 'a/../../evil.txt', why: /contains '\.\.'/ },
  {
    name: 'absolute',
    entries: [
      { path: 'ok.txt', body: 'fine' },
      { path: '/tmp/orchard-evil-absolute.txt', body: 'owned' },
    ],
    bad: '/tmp/orchard-evil-absolute.txt',
    why: /absolute path/,
  },
  {
    name: 'escaping symlink',
    entries: [
      { path: 'ok.txt', body: 'fine' },
      { path: 'out', type: 'SymbolicLink', linkpath: '../../..' },
      { path: 'later.txt', body: 'x' },
    ],
    bad: 'out',
    why: /symbolic link that leads outside/,
  },
  {
    name: 'absolute symlink',
    entries: [{ path: 'etc', type: 'SymbolicLink', linkpath: '/etc' }],
    bad: 'etc',
    why: /symbolic link to an absolute path/,
  },
  {
    name: 'symlink then write through it',
    entries: [
      { path: 'here', type: 'SymbolicLink', linkpath: '.' },
      { path: 'here/file.txt', body: 'x' },
    ],
    bad: 'here/file.txt',
    why: /through a symbolic link/,
  },
  {
    name: 'symlink chain',
    entries: [
      { path: 'a', type: 'SymbolicLink', linkpath: '.' },
      { path: 'b', type: 'SymbolicLink', linkpath: 'a/..' },
    ],
    bad: 'b',
    why: /leads outside/,
  },
  {
    name: 'escaping hardlink',
    entries: [{ path: 'passwd', type: 'Link', linkpath: '../../../../../../etc/passwd' }],
    bad: 'passwd',
    why: /hard link that leads outside/,
  },
  {
    name: 'absolute hardlink',
    entries: [{ path: 'passwd', type: 'Link', linkpath: '/etc/passwd' }],
    bad: 'passwd',
    why: /hard link to an absolute path/,
  },
  { name: 'fifo', entries: [{ path: 'pipe', type: 'FIFO' }], bad: 'pipe', why: /FIFO/ },
];

for (const m of malicious) {
  test(`refused whole, nothing written: ${m.name}`, async () => {
    const before = await listTree(root);
    const { dest, run } = await extract(m.name, rawTar(m.entries));
    await assert.rejects(run(), (err: unknown) => {
      assert.ok(isOrchardError(err), String(err));
      assert.equal(err.code, 'ARCHIVE_UNSAFE');
      assert.ok(err.message.includes(`entry "${m.bad}"`), err.message);
      assert.match(err.message, m.why);
      assert.match(err.message, /nothing was extracted/);
      return true;
    });
    assert.deepEqual(await listTree(dest), [], 'nothing extracted, not even the good entries');
    const after = (await listTree(root)).filter((p) => !p.startsWith('archives/') && !p.includes('/logs/'));
    assert.deepEqual(
      after,
      before.filter((p) => !p.startsWith('archives/') && !p.includes('/logs/')),
      'nothing written anywhere else in the temp folder',
    );
    assert.equal(existsSync('/tmp/orchard-evil-absolute.txt'), false);
  });
}

test('a link through a symlink already on disk (e.g. from a cloned repo) is refused', async () => {
  const dest = path.join(t.app.app, 'checkout');
  await mkdir(dest, { recursive: true });
  await symlink(root, path.join(dest, 'sneaky')); // leads out of the app folder
  const { run } = await extract('via disk link', rawTar([{ path: 'x', type: 'SymbolicLink', linkpath: 'sneaky/archives' }]), { dest });
  await assert.rejects(run(), (err: unknown) => isOrchardError(err) && err.code === 'ARCHIVE_UNSAFE' && /entry "x"/.test(err.message));
  assert.equal(existsSync(path.join(dest, 'x')), false);
});

test('a destination outside the app folder is refused; a non-tar file fails with a clear message', async () => {
  const outside = path.join(root, 'outside dest');
  const { run } = await extract('outside', rawTar([{ path: 'a.txt', body: 'a' }]), { dest: outside });
  await assert.rejects(run(), (err: unknown) => isOrchardError(err) && err.code === 'PATH_ESCAPE');
  assert.equal(existsSync(outside), false);

  const zipPath = path.join(root, 'archives', 'thing.zip');
  await writeFile(zipPath, Buffer.from('PK\x03\x04 this is not a tar archive at all'.padEnd(2000, '!')));
  const step = plannedStep('extract', { archive: zipPath, dest: path.join(t.app.app, 'zip'), strip: 0 });
  await assert.rejects(extractStep(step, await stepContext(t, 'zip')), (err: unknown) => {
    assert.ok(isOrchardError(err) && err.code === 'STEP_FAILED', String(err));
    assert.match(err.message, /thing\.zip/);
    return true;
  });
});
