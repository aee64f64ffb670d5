import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppState } from '../../engine/install/app-state.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { cliEntry, fixturesDir, tempDir } from '../helpers/paths.js';

const recipe = path.join(fixturesDir, 'install', 'slow-app');
let root: string;
let cleanup: () => Promise<void>;
const orphans: number[] = [];

before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard resume '));
});
after(async () => {
  for (const pid of orphans) killQuietly(pid);
  await cleanup();
});

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Start an install and wait until it is inside the slow step. */
async function startUntilSlowStep(home: string) {
  const child = spawn(process.execPath, [cliEntry, 'install', recipe], { env: { ...process.env, ORCHARD_HOME: home }, stdio: 'ignore' });
  const stateFile = path.join(home, 'apps', 'slow-app', 'state.json');
  const marker = path.join(home, 'apps', 'slow-app', 'app', '.slow-attempt');
  for (let i = 0; i < 300; i++) {
    if (existsSync(marker) && existsSync(stateFile)) {
      const state = JSON.parse(await readFile(stateFile, 'utf8')) as AppState;
      if (state.journal['install:slow']?.status === 'running') {
        const pids = (await readFile(marker, 'utf8')).trim().split('\n').map(Number);
        orphans.push(...pids);
        return child;
      }
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error('the install never reached the slow step');
}

async function tree(dir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = path.join(prefix, entry.name);
    if (entry.name === '.slow-attempt') continue; // records pids, differs by design
    if (entry.isDirectory()) Object.assign(out, await tree(path.join(dir, entry.name), rel));
    else out[rel] = await readFile(path.join(dir, entry.name), 'utf8');
  }
  return out;
}

test('SIGKILL during a step, then install again: it resumes at that step with the same result', async () => {
  const home = path.join(root, 'killed home');
  const child = await startUntilSlowStep(home);
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));

  const resumed = await runCli(['install', recipe, '--json'], { home });
  assert.equal(resumed.code, 0, resumed.stderr);
  const result = parseJson<{ ran: string[]; skipped: string[] }>(resumed);
  assert.deepEqual(result.skipped, ['install:first']);
  assert.deepEqual(result.ran, ['install:slow', 'install:last']);

  const cleanHome = path.join(root, 'clean home');
  const clean = await runCli(['install', recipe, '--input', 'delay=0', '--json'], { home: cleanHome });
  assert.equal(clean.code, 0, clean.stderr);
  assert.deepEqual(await tree(path.join(home, 'apps', 'slow-app', 'app')), await tree(path.join(cleanHome, 'apps', 'slow-app', 'app')));
});

test('a second install of the same app while one runs is refused, not interleaved', async () => {
  const home = path.join(root, 'locked home');
  const child = await startUntilSlowStep(home);
  try {
    const second = await runCli(['install', recipe], { home });
    assert.equal(second.code, 1);
    assert.match(second.stderr, /slow-app is busy: install is running \(pid \d+/);
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }
});
