import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled tree this test runs from (dist/ or a private --out folder). */
export const distRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The repository (sources, recipes, fixtures). */
export const repoRoot = findRepoRoot(distRoot);
/** The compiled CLI entry: spawn it as `node cliEntry ...args`. */
export const cliEntry = path.join(distRoot, 'engine', 'cli', 'main.js');
/** Source fixtures (not compiled): test/fixtures/... in the repository. */
export const fixturesDir = path.join(repoRoot, 'test', 'fixtures');

/** A fresh temp folder whose name contains a space, so every path-with-spaces bug shows. */
export async function tempDir(prefix = 'orchard test '): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

function findRepoRoot(from: string): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'recipes'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no repository above ${from}`);
    dir = up;
  }
  return dir;
}
