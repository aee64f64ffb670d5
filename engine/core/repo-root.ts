import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding Orchard's package.json, found from this file whether it runs from the
 * sources or from dist/. Bundled recipes, the schema and the built UI are found from here.
 */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'recipes'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the Orchard package root');
    dir = up;
  }
}
