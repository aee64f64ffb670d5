import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { generatedContent, LoopbackServer, sha256OfContent } from '../../bench/download/loopback-server.js';
import { ENGINE_NODE_FLAGS } from '../../engine/cli/node-flags.js';
import { cliEntry, repoRoot, tempDir } from '../helpers/paths.js';

const run = promisify(execFile);

test('the orchard launcher starts node with the engine flags, through its shebang', async () => {
  const firstLine = (await readFile(path.join(repoRoot, 'bin', 'orchard.js'), 'utf8')).split('\n')[0]!;
  const m = /^#!(\/usr\/bin\/env) -S (.+)$/.exec(firstLine);
  assert.ok(m, `unexpected shebang: ${firstLine}`);
  const [program, ...flags] = m[2]!.split(' ');
  assert.equal(program, 'node');
  assert.deepEqual(flags, [...ENGINE_NODE_FLAGS]);
  // The same line as the kernel runs it: env splits it, and node takes the flags (an unknown or
  // misspelled V8 flag would make node exit with an error).
  const { stdout } = await run(m[1]!, ['-S', `${m[2]!} -e process.stdout.write(JSON.stringify(process.execArgv))`]);
  assert.deepEqual(JSON.parse(stdout), [...ENGINE_NODE_FLAGS, '-e', 'process.stdout.write(JSON.stringify(process.execArgv))']);
});

test('with the engine flags, a real download runs far fewer full garbage collections', async () => {
  // What the flags are for: `orchard fetch` of 256 MiB from a loopback server (8 connections), with
  // V8's GC trace on. By default the socket buffers make V8 run a mark-compact every ~20 MB; with a
  // 64 MB starting budget it runs one or two.
  const { dir, cleanup } = await tempDir('orchard flags ');
  const content = generatedContent(256 * 2 ** 20, 3);
  const server = await new LoopbackServer().start();
  server.files.set('/w.bin', { content, etag: '"w"' });
  try {
    const markCompacts = async (flags: readonly string[], n: number) => {
      const out = path.join(dir, `w${n}.bin`);
      const argv = [
        '--trace-gc',
        ...flags,
        cliEntry,
        'fetch',
        server.url('/w.bin'),
        '-o',
        out,
        '--sha256',
        sha256OfContent(content),
        '--connections',
        '8',
        '--json',
      ];
      const { stdout } = await run(process.execPath, argv, {
        env: { ...process.env, ORCHARD_HOME: path.join(dir, 'home') },
        maxBuffer: 64 * 2 ** 20,
      });
      assert.match(stdout, /"ok": true/);
      return stdout.split('\n').filter((line) => line.includes('Mark-Compact')).length;
    };
    const byDefault = await markCompacts([], 1);
    const withEngineFlags = await markCompacts(ENGINE_NODE_FLAGS, 2);
    assert.ok(byDefault >= 6, `expected the default heap to run several mark-compacts, ran ${byDefault}`);
    assert.ok(withEngineFlags * 3 <= byDefault, `engine flags: ${withEngineFlags} mark-compacts, default: ${byDefault}`);
  } finally {
    await server.stop();
    await cleanup();
  }
});
