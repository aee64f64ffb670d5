import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, link, mkdir, readFile, realpath, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import {
  bwrapArgs,
  confineArgv,
  confinedCommand,
  detectConfinement,
  sandboxExecProfile,
  sbplString,
  type SandboxScope,
} from '../../sandbox/confinement.js';
import { findOnPath } from '../../sandbox/find-on-path.js';
import { tempDir } from '../helpers/paths.js';

function at_(args: string[], ...seq: string[]): number {
  for (let i = 0; i + seq.length <= args.length; i++) if (seq.every((s, j) => args[i + j] === s)) return i;
  return -1;
}

const scope: SandboxScope = {
  orchardHome: '/home/me/Orchard',
  store: '/home/me/Orchard/store',
  appRoot: '/home/me/Orchard/apps/a b',
  recipeDir: '/home/me/Orchard/recipes/a',
  userHome: '/home/me',
  toolchains: ['/usr', '/home/me/.pyenv/versions/3.11', '/home/me/Orchard/toolbox'],
};

test('bwrap argv: home and ORCHARD_HOME hidden, then store/recipe read-only, app writable, models read-only last', () => {
  const args = bwrapArgs({ mechanism: 'bwrap', scope, network: false, cwd: '/home/me/Orchard/apps/a b/app', devices: ['/dev/nvidia0'] });
  assert.ok(at_(args, '--tmpfs', '/run') > 0, '/run and its daemon sockets are hidden');
  const at = (...seq: string[]) => {
    for (let i = 0; i + seq.length <= args.length; i++) if (seq.every((s, j) => args[i + j] === s)) return i;
    return -1;
  };
  assert.equal(at('--ro-bind', '/', '/'), 0);
  const home = at('--tmpfs', '/home/me');
  const orchard = at('--tmpfs', '/home/me/Orchard');
  const pyenv = at('--ro-bind-try', '/home/me/.pyenv/versions/3.11', '/home/me/.pyenv/versions/3.11');
  const store = at('--ro-bind-try', '/home/me/Orchard/store', '/home/me/Orchard/store');
  const recipe = at('--ro-bind-try', '/home/me/Orchard/recipes/a', '/home/me/Orchard/recipes/a');
  const app = at('--bind', '/home/me/Orchard/apps/a b', '/home/me/Orchard/apps/a b');
  const models = at('--ro-bind-try', '/home/me/Orchard/apps/a b/models', '/home/me/Orchard/apps/a b/models');
  const state = at('--ro-bind-try', '/home/me/Orchard/apps/a b/state.json', '/home/me/Orchard/apps/a b/state.json');
  assert.ok(home > 0 && pyenv > home && orchard > pyenv, 'home hidden, its toolchains bound back, then ORCHARD_HOME hidden');
  assert.ok(store > orchard && recipe > orchard && app > store && models > app && state > app, args.join(' '));
  assert.equal(at('--bind', '/home/me/Orchard/store', '/home/me/Orchard/store'), -1, 'the store is never writable');
  assert.equal(args.indexOf('/home/me/Orchard/toolbox'), -1, 'a "toolchain" inside ORCHARD_HOME is not bound back');
  // A recipe saved in the home itself, a PATH entry that is $HOME, a local git source above it: never bound.
  const wide = bwrapArgs({
    mechanism: 'bwrap',
    scope: { ...scope, recipeDir: '/home/me', toolchains: ['/home/me'], readOnly: ['/home'] },
    network: true,
    devices: [],
  });
  assert.equal(at_(wide, '--ro-bind-try', '/home/me', '/home/me'), -1, wide.join(' '));
  assert.equal(at_(wide, '--ro-bind-try', '/home', '/home'), -1, wide.join(' '));
  const wideProfile = sandboxExecProfile({ ...scope, recipeDir: '/home/me' }, { network: true });
  assert.equal(wideProfile.split('(subpath "/home/me")').length, 2, `only denied, never re-allowed:\n${wideProfile}`);
  assert.ok(args.includes('--unshare-net'));
  assert.ok(at('--dev-bind-try', '/dev/nvidia0', '/dev/nvidia0') > at('--dev', '/dev'), 'GPU nodes after the private /dev');
  assert.deepEqual(args.slice(-2), ['--chdir', '/home/me/Orchard/apps/a b/app']);
  assert.ok(!bwrapArgs({ mechanism: 'bwrap', scope, network: true, devices: [] }).includes('--unshare-net'));
  assert.deepEqual(confineArgv(['true', 'x y'], { mechanism: 'none', scope, network: false }), ['true', 'x y']);
  const wrapped = confineArgv(['python', '-c', 'print(1)'], { mechanism: 'bwrap', scope, network: true, devices: [] });
  assert.deepEqual(wrapped.slice(-4), ['--', 'python', '-c', 'print(1)']);
});

test(
  'sandbox-exec profile: reads of home and ORCHARD_HOME denied then re-allowed, writes only to the app and temp, app ' +
    'read-only parts last',
  () => {
    const quoted: SandboxScope = { ...scope, appRoot: '/home/me/Orchard/apps/a "q" \\ b', toolchains: ['/home/me/.pyenv/versions/3.11'] };
    const profile = sandboxExecProfile(quoted, { network: false });
    assert.equal(sbplString('a "q" \\ b'), '"a \\"q\\" \\\\ b"');
    const app = sbplString(quoted.appRoot);
    assert.equal(
      profile,
      [
        '(version 1)',
        '(allow default)',
        '(deny file-read* file-write*',
        '  (subpath "/home/me")',
        '  (subpath "/home/me/Orchard"))',
        '(allow file-read*',
        `  (subpath ${app})`,
        '  (subpath "/home/me/Orchard/store")',
        '  (subpath "/home/me/Orchard/recipes/a")',
        '  (subpath "/home/me/.pyenv/versions/3.11"))',
        '(allow file-read-metadata',
        '  (literal "/home/me")',
        '  (literal "/home/me/.pyenv")',
        '  (literal "/home/me/.pyenv/versions")',
        '  (literal "/home/me/Orchard")',
        '  (literal "/home/me/Orchard/apps")',
        '  (literal "/home/me/Orchard/recipes"))',
        '(deny file-write*)',
        '(allow file-write*',
        `  (subpath ${app})`,
        '  (subpath "/private/tmp")',
        '  (subpath "/private/var/folders")',
        '  (literal "/dev/null")',
        '  (literal "/dev/zero")',
        '  (literal "/dev/dtracehelper")',
        '  (regex #"^/dev/tty")',
        '  (regex #"^/dev/fd/"))',
        '(deny file-write*',
        `  (subpath ${sbplString(`${quoted.appRoot}/models`)})`,
        `  (subpath ${sbplString(`${quoted.appRoot}/state.json`)})`,
        `  (subpath ${sbplString(`${quoted.appRoot}/.lock`)})`,
        `  (subpath ${sbplString(`${quoted.appRoot}/logs`)}))`,
        '(deny file-link',
        '  (subpath "/home/me/Orchard/store")',
        `  (subpath ${sbplString(`${quoted.appRoot}/models`)})`,
        `  (subpath ${sbplString(`${quoted.appRoot}/state.json`)})`,
        `  (subpath ${sbplString(`${quoted.appRoot}/.lock`)})`,
        `  (subpath ${sbplString(`${quoted.appRoot}/logs`)}))`,
        '(deny network-outbound (remote ip))',
        '(deny network-inbound (local ip))',
        '',
      ].join('\n'),
    );
    // Balanced parentheses outside strings: sandbox-exec rejects a malformed profile outright.
    const code = profile.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    assert.equal([...code].filter((c) => c === '(').length, [...code].filter((c) => c === ')').length);
    assert.ok(!sandboxExecProfile(scope, { network: true }).includes('network'), 'a step that declares the network keeps it');
    const argv = confineArgv(['python3', 'main.py'], { mechanism: 'sandbox-exec', scope, network: true });
    assert.deepEqual([argv[0], argv[1], ...argv.slice(3)], ['/usr/bin/sandbox-exec', '-p', 'python3', 'main.py']);
  },
);

test(
  'detection matches this machine; confined: writes outside fail, hidden files are absent, a hardlinked model stays ' + 'intact',
  async (t) => {
    const found = await detectConfinement();
    assert.ok(found.note.length > 0);
    if (process.platform === 'linux' && !findOnPath('bwrap', process.env)) {
      assert.equal(found.available, false);
      assert.match(found.note, /not installed/);
    }
    if (!found.available) {
      t.skip(`confinement is not available here: ${found.note}`);
      return;
    }
    const { dir, cleanup } = await tempDir();
    try {
      const root = await realpath(dir);
      const orchardHome = path.join(root, 'Orchard Home');
      const appRoot = path.join(orchardHome, 'apps', 'the app');
      const store = path.join(orchardHome, 'store');
      await mkdir(path.join(appRoot, 'models'), { recursive: true });
      await mkdir(store, { recursive: true });
      await writeFile(path.join(orchardHome, 'orchard.json'), '{"token":"secret"}');
      const blob = path.join(store, 'blob');
      await writeFile(blob, 'weights');
      await chmod(blob, 0o444);
      await link(blob, path.join(appRoot, 'models', 'm.bin'));
      const outside = path.join(root, 'outside.txt');
      const inside = path.join(appRoot, 'inside.txt');
      const script = [
        'echo ok > "$1"',
        'echo escaped > "$2" 2>/dev/null && echo wrote-outside',
        'cat "$3" 2>/dev/null && echo read-secret',
        'chmod u+w "$4" 2>/dev/null; echo poisoned > "$4" 2>/dev/null && echo wrote-model',
        'true',
      ].join('; ');
      const confined = await confinedCommand(
        'run',
        ['/bin/sh', '-c', script, 'sh', inside, outside, path.join(orchardHome, 'orchard.json'), path.join(appRoot, 'models', 'm.bin')],
        {
          scope: { orchardHome, store, appRoot, userHome: path.join(root, 'user home') },
          network: false,
        },
      );
      assert.equal(confined.confined, true);
      const result = await execa(confined.argv[0]!, confined.argv.slice(1), { reject: false, timeout: 20_000 });
      assert.equal(result.exitCode, 0, result.stderr);
      assert.equal(result.stdout, '', `nothing escaped: ${result.stdout}`);
      assert.equal(await readFile(inside, 'utf8'), 'ok\n', 'writing inside works');
      assert.equal(existsSync(outside), false, 'nothing was written outside');
      assert.equal(await readFile(blob, 'utf8'), 'weights', 'the store blob is unchanged');
    } finally {
      await cleanup();
    }
  },
);
