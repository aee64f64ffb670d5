import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cliEntry, tempDir } from '../helpers/paths.js';

interface Ended {
  code: number | null;
  stderr: string;
  stdoutBytes: number;
}

/** Run the CLI like `orchard … | head -c N`: the reader closes the pipe(s) after the first chunk. */
function runIntoClosingPipe(args: string[], home: string, closeStderrToo: boolean): Promise<Ended> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliEntry, ...args], {
      env: { ...process.env, ORCHARD_HOME: home, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdoutBytes = 0;
    child.stdout.once('data', (c: Buffer) => {
      stdoutBytes += c.length;
      child.stdout.destroy();
      if (closeStderrToo) child.stderr.destroy();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    child.on('exit', (code) => resolve({ code, stderr, stdoutBytes }));
  });
}

test('`orchard list | head` exits quietly when the reader goes away (EPIPE)', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const recipes = path.join(dir, 'recipes');
    await mkdir(recipes, { recursive: true });
    for (let i = 0; i < 2000; i++) {
      await writeFile(
        path.join(recipes, `r-${i}.json`),
        JSON.stringify({ id: `r-${i}`, name: `Recipe ${i} ${'.'.repeat(60)}`, version: '1', kind: 'tool', install: [] }),
      );
    }
    const ended = await runIntoClosingPipe(['list'], dir, false);
    assert.ok(ended.stdoutBytes > 0);
    assert.doesNotMatch(ended.stderr, /EPIPE|internal error|Error:|\n\s+at /, ended.stderr);
    assert.equal(ended.code, 0, ended.stderr);
  } finally {
    await cleanup();
  }
});

test('an install whose output pipe closes half way still finishes and leaves a correct journal', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const recipeFile = path.join(dir, 'piped', 'recipe.json');
    await mkdir(path.dirname(recipeFile), { recursive: true });
    const step = (i: number): unknown => ({ kind: 'write', id: `w${i}`, path: `app/file-${i}.txt`, content: `${i}` });
    await writeFile(
      recipeFile,
      JSON.stringify({
        id: 'piped',
        name: 'Piped',
        version: '1.0.0',
        kind: 'tool',
        install: [
          step(1),
          { kind: 'run', id: 'pause', command: [process.execPath, '-e', 'setTimeout(() => {}, 800)'], network: false },
          step(2),
          step(3),
        ],
      }),
    );
    const home = path.join(dir, 'home');
    const ended = await runIntoClosingPipe(['install', recipeFile, '--verbose'], home, true);
    assert.equal(ended.code, 0, ended.stderr);
    const state = JSON.parse(await readFile(path.join(home, 'apps', 'piped', 'state.json'), 'utf8')) as {
      lifecycle: string;
      journal: Record<string, { status: string }>;
    };
    assert.equal(state.lifecycle, 'installed');
    const statuses = Object.values(state.journal).map((j) => j.status);
    assert.equal(statuses.length, 4, JSON.stringify(state.journal));
    assert.ok(
      statuses.every((s) => s === 'done'),
      JSON.stringify(state.journal),
    );
    for (const i of [1, 2, 3]) assert.ok(existsSync(path.join(home, 'apps', 'piped', 'app', `file-${i}.txt`)));
  } finally {
    await cleanup();
  }
});

test('`orchard serve` opens the browser without the token in any argv', async () => {
  const { dir, cleanup } = await tempDir();
  const bin = path.join(dir, 'bin');
  const record = path.join(dir, 'opener.json');
  await mkdir(bin);
  // A stand-in browser opener: records its argv, and the page it was asked to open.
  await writeFile(
    path.join(bin, 'xdg-open'),
    `#!${process.execPath}\nconst fs = require('node:fs');\nconst url = require('node:url');\nconst arg = process.argv[2] ?? '';\n` +
      `let page = null;\ntry { page = fs.readFileSync(url.fileURLToPath(arg), 'utf8'); } catch {}\n` +
      `fs.writeFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv, page }));\n`,
  );
  await chmod(path.join(bin, 'xdg-open'), 0o755);
  await writeFile(path.join(bin, 'open'), await readFile(path.join(bin, 'xdg-open')));
  await chmod(path.join(bin, 'open'), 0o755);
  const home = path.join(dir, 'home');
  const serve = spawn(process.execPath, [cliEntry, 'serve', '--port', '0'], {
    env: { ...process.env, ORCHARD_HOME: home, NO_COLOR: '1', PATH: `${bin}${path.delimiter}${process.env['PATH'] ?? ''}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const deadline = Date.now() + 30_000;
    while (!existsSync(record) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(existsSync(record), 'the opener ran');
    const { argv, page } = JSON.parse(await readFile(record, 'utf8')) as { argv: string[]; page: string | null };
    const token = (JSON.parse(await readFile(path.join(home, 'orchard.json'), 'utf8')) as { token: string }).token;
    assert.ok(token.length > 10);
    for (const arg of argv) assert.ok(!arg.includes(token), `the opener's argv holds the token: ${arg}`);
    const target = argv[2] ?? '';
    assert.match(target, /^file:\/\//);
    assert.ok(page?.includes(`#token=${token}`), 'the page it opens leads to the URL with the token');
    const file = fileURLToPath(target);
    assert.equal((await import('node:fs')).statSync(file).mode & 0o077, 0, 'the page is private to this user');
    // Nor does the server's own command line hold it.
    if (process.platform === 'linux' && serve.pid !== undefined) {
      assert.ok(!(await readFile(`/proc/${serve.pid}/cmdline`, 'utf8')).includes(token));
    }
  } finally {
    serve.kill('SIGTERM');
    await new Promise((r) => serve.once('exit', r));
    await cleanup();
  }
});
