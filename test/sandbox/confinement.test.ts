import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { confineArgv, detectConfinement, sandboxExecProfile } from '../../sandbox/confinement.js';
import { findOnPath } from '../../sandbox/find-on-path.js';
import { tempDir } from '../helpers/paths.js';

test('bwrap argv: read-only root, private /dev and /proc, writable app folder and store, network kept unless cut', () => {
  const argv = confineArgv(['python', '-c', 'print(1)'], {
    mechanism: 'bwrap', appRoot: '/o h/apps/a', writable: ['/o h/store', '/o h/apps/a'], cwd: '/o h/apps/a/app', devices: [],
  });
  assert.deepEqual(argv, [
    'bwrap', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-pid', '--die-with-parent',
    '--bind', '/o h/apps/a', '/o h/apps/a', '--bind', '/o h/store', '/o h/store',
    '--chdir', '/o h/apps/a/app', '--', 'python', '-c', 'print(1)',
  ]);
  const offline = confineArgv(['true'], { mechanism: 'bwrap', appRoot: '/a', writable: [], network: false, devices: ['/dev/nvidia0'] });
  assert.ok(offline.includes('--unshare-net'));
  const gpu = offline.indexOf('--dev-bind-try');
  assert.deepEqual(offline.slice(gpu, gpu + 3), ['--dev-bind-try', '/dev/nvidia0', '/dev/nvidia0'], 'GPU device nodes pass through');
  assert.ok(gpu > offline.indexOf('--dev'), 'after the private /dev is mounted');
  assert.deepEqual(confineArgv(['true', 'x y'], { mechanism: 'none', appRoot: '/a', writable: [] }), ['true', 'x y']);
});

test('sandbox-exec profile denies file writes except the app folder, the store and temp; quotes paths', () => {
  const argv = confineArgv(['python3', 'main.py'], { mechanism: 'sandbox-exec', appRoot: '/Users/me/Orchard/apps/a "q"', writable: ['/Users/me/Orchard/store'] });
  assert.equal(argv[0], '/usr/bin/sandbox-exec');
  assert.equal(argv[1], '-p');
  assert.deepEqual(argv.slice(3), ['python3', 'main.py']);
  const profile = argv[2]!;
  assert.equal(profile, sandboxExecProfile(['/Users/me/Orchard/apps/a "q"', '/Users/me/Orchard/store']));
  assert.match(profile, /^\(version 1\)\n\(allow default\)\n\(deny file-write\*\)\n\(allow file-write\*\n/);
  assert.ok(profile.includes('(subpath "/Users/me/Orchard/apps/a \\"q\\"")'), profile);
  assert.ok(profile.includes('(subpath "/Users/me/Orchard/store")'));
  assert.ok(profile.includes('(subpath "/private/tmp")') && profile.includes('(subpath "/private/var/folders")'));
  // Balanced parentheses: sandbox-exec rejects a malformed profile outright.
  const code = profile.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  assert.equal([...code].filter((c) => c === '(').length, [...code].filter((c) => c === ')').length);
});

test('detection matches this machine, and a confined command cannot write outside its folder', async (t) => {
  const found = await detectConfinement();
  assert.ok(found.note.length > 0);
  if (process.platform === 'linux' && !findOnPath('bwrap', process.env)) {
    assert.equal(found.available, false);
    assert.match(found.note, /not installed/);
  }
  if (!found.available) {
    t.skip(`confinement is not available here, so the write-outside check is skipped: ${found.note}`);
    return;
  }
  const { dir, cleanup } = await tempDir();
  try {
    const appRoot = path.join(await realpath(dir), 'apps', 'the app');
    await mkdir(appRoot, { recursive: true });
    const outside = path.join(await realpath(dir), 'outside.txt');
    const inside = path.join(appRoot, 'inside.txt');
    const script = 'echo ok > "$1"; echo escaped > "$2"';
    const [file, ...args] = confineArgv(['/bin/sh', '-c', script, 'sh', inside, outside], { mechanism: found.mechanism, appRoot, writable: [] }) as [string, ...string[]];
    const result = await execa(file, args, { reject: false, timeout: 20_000 });
    assert.notEqual(result.exitCode, 0, 'writing outside the app folder fails');
    assert.match(result.stderr, /Read-only file system|Operation not permitted/);
    assert.equal(await readFile(inside, 'utf8'), 'ok\n', 'writing inside works');
    assert.equal(existsSync(outside), false, 'nothing was written outside');
  } finally {
    await cleanup();
  }
});
