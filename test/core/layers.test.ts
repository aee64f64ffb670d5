import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fixturesDir, repoRoot } from '../helpers/paths.js';

// The dependency rules of DESIGN §2 (scripts/check-layers.mjs, run by `npm test`) must be able to
// fail: a fixture tree with one planted violation of each rule is refused, line by line.
const script = path.join(repoRoot, 'scripts', 'check-layers.mjs');
const check = (root: string) => spawnSync(process.execPath, [script, '--root', root], { encoding: 'utf8' });

test('every planted violation of the layer rules is reported, and nothing else', () => {
  const r = check(path.join(fixturesDir, 'layers'));
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stderr
    .trim()
    .split('\n')
    .map((l) => l.replace(/^layers: /, ''));
  const expected = [
    "engine/install/lock.ts:2 imports engine/store/blob.ts: past the package's index; import engine/store/index.ts",
    'engine/services/llm/main.ts:2 imports engine/cli/run.ts: services/llm may not import cli (DESIGN §2)',
    'engine/store/gc.ts:2 imports engine/install/lock.ts: store may not import install (DESIGN §2)',
    'engine/widgets/w.ts:2 imports engine/core/a.ts: unknown layer "widgets": add it to LAYERS in scripts/check-layers.mjs',
    'ui/src/app.ts:3 imports engine/core/a.ts: ui reaches the engine only over HTTP',
    'main/main.ts:2 imports engine/cli/run.ts: main starts the engine as a process and imports none of it',
    'import cycle: engine/api/x.ts -> engine/api/y.ts -> engine/api/x.ts',
    '7 violation(s) of the dependency rules',
  ];
  assert.equal(lines.length, expected.length, r.stderr);
  for (const [i, want] of expected.entries()) assert.ok(lines[i]?.startsWith(want), `line ${i + 1}: ${lines[i]}\nwanted: ${want}`);
});

test('the product itself keeps the rules', () => {
  const r = check(repoRoot);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /the dependency rules hold/);
});
