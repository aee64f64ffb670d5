import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Source code Orchard already carries, for recipes that build from it offline: node-llama-cpp's
 * npm package ships llama.cpp's git history as `llama/gitRelease.bundle` (git clones it like a
 * repository). Found from wherever npm put the package.
 */
export function llamaCppSourceBundle(): string {
  let dir = path.dirname(fileURLToPath(import.meta.resolve('node-llama-cpp')));
  for (;;) {
    const candidate = path.join(dir, 'llama', 'gitRelease.bundle');
    if (existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) return path.join('node_modules', 'node-llama-cpp', 'llama', 'gitRelease.bundle');
    dir = up;
  }
}
