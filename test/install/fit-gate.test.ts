import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseJson, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';
import { startRangeServer, type RangeServer } from '../helpers/range-server.js';
import { writeTinyGguf } from '../helpers/tiny-gguf.js';

let root: string;
let cleanup: () => Promise<void>;
let server: RangeServer;
let recipeDir: string;

before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard fit gate '));
  const model = path.join(root, 'tiny.gguf');
  await writeTinyGguf(model, { mode: 'random' });
  const bytes = await readFile(model);
  server = await startRangeServer({ 'tiny.gguf': bytes });
  // An LLM recipe whose context is an input: a huge context needs a KV cache no machine here has.
  recipeDir = path.join(root, 'recipes', 'tiny-llm');
  await mkdir(recipeDir, { recursive: true });
  await writeFile(
    path.join(recipeDir, 'recipe.json'),
    JSON.stringify({
      id: 'tiny-llm',
      name: 'Tiny LLM',
      version: '1.0.0',
      kind: 'llm',
      inputs: { context: { type: 'number', default: 256, minimum: 16 } },
      weights: [{ id: 'model', url: server.url('tiny.gguf'), file: 'tiny.gguf', size: bytes.length, sha256: server.sha256('tiny.gguf') }],
      install: [{ kind: 'fetch' }, { kind: 'link', weight: 'model' }],
      service: { type: 'llm', args: ['--model', '{{weights.model.path}}', '--context', '{{inputs.context}}', '--threads', '1'], readiness: { http: '/health' } },
    }),
  );
});
after(async () => {
  await server.close();
  await cleanup();
});

test('an LLM that cannot fit is refused before any weight byte is downloaded; --force overrides', async () => {
  const home = path.join(root, 'home refused');
  const refused = await runCli(['install', recipeDir, '--input', 'context=400000000'], { home });
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /the model does not fit this machine: it needs .* at a context of 400000000/);
  assert.match(refused.stderr, /--force/);
  const blobs = path.join(home, 'store', 'blobs', 'sha256');
  assert.ok(!existsSync(blobs) || (await readdir(blobs)).length === 0, 'nothing entered the store');
  assert.ok(server.requests.every((r) => /bytes=\d+-\d+$/.test(r)), `only header ranges were read: ${server.requests.join(', ')}`);
  const state = JSON.parse(await readFile(path.join(home, 'apps', 'tiny-llm', 'state.json'), 'utf8')) as { lifecycle: string };
  assert.equal(state.lifecycle, 'failed', 'a refused install is marked failed, not left installing');

  const forced = await runCli(['install', recipeDir, '--input', 'context=400000000', '--force', '--json'], { home });
  assert.equal(forced.code, 0, forced.stderr);
  assert.deepEqual(parseJson<{ ran: string[] }>(forced).ran, ['install:fetch-0', 'install:link-1']);
});

test('an LLM that fits installs, and the fit verdict is shown', async () => {
  const home = path.join(root, 'home fits');
  const ok = await runCli(['install', recipeDir], { home });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /fit: fits — needs .* at a context of 256/);
  assert.ok(existsSync(path.join(home, 'apps', 'tiny-llm', 'models', 'tiny.gguf')));
});
