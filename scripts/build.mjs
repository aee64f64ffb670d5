// Build everything a fresh clone needs: the engine (tsc -> dist/), the Electron shell (main/,
// typechecked and compiled), and the web UI (vite -> ui/dist/). Fails on any type error.
// Flags for parallel development: --out DIR (another output folder), --engine-only (skip main/ and
// ui/), --allow-type-errors (emit anyway; never used by `npm test`).
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const outIndex = args.indexOf('--out');
const out = outIndex >= 0 ? path.resolve(root, args[outIndex + 1]) : path.join(root, 'dist');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const run = (cmd, cmdArgs) => {
  try {
    execFileSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
  } catch (err) {
    if (!flag('--allow-type-errors')) process.exit(typeof err.status === 'number' ? err.status : 1);
  }
};

rmSync(out, { recursive: true, force: true });
run(bin('tsc'), ['-p', 'tsconfig.json', '--outDir', out]);
if (!flag('--engine-only')) {
  if (existsSync(path.join(root, 'main', 'tsconfig.json'))) run(bin('tsc'), ['-p', 'main/tsconfig.json']);
  if (existsSync(path.join(root, 'ui', 'tsconfig.json'))) run(bin('tsc'), ['-p', 'ui/tsconfig.json', '--noEmit']);
  if (existsSync(path.join(root, 'ui', 'vite.config.ts'))) {
    run(bin('vite'), ['build', '--config', 'ui/vite.config.ts', '--logLevel', 'warn']);
  }
}
