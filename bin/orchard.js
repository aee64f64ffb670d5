#!/usr/bin/env -S node --initial-old-space-size=64
// The node flags above are engine/cli/node-flags.ts (why there); a test keeps the two the same.
// Thin launcher: the CLI is compiled to dist/ by `npm run build` (run automatically by `npm install`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/engine/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('orchard: not built yet. Run `npm install` (or `npm run build`) in the Orchard folder first.\n');
  process.exit(1);
}
await import(entry.href);
