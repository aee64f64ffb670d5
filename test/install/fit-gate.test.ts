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
      service: {
        type: 'llm',
        args: ['--model', '{{weights.model.path}}', '--context', '{{inputs.context}}', '--threads', '1'],
        readiness: { http: '/health' },
      },
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
  assert.ok(
    server.requests.every((r) => /bytes=\d+-\d+$/.test(r)),
    `only header ranges were read: ${server.requests.join(', ')}`,
  );
  assert.ok(!existsSync(path.join(home, 'apps', 'tiny-llm')), 'a refused new install leaves no app folder behind');

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

/** The tiny LLM recipe served from a server without Range support, with what it pins. */
async function rangelessRecipe(name: string, url: string, pins: { size?: number; sha256?: string; memoryGiB?: number }): Promise<string> {
  const dir = path.join(root, 'recipes', name);
  await mkdir(dir, { recursive: true });
  await writeFile(
    path.join(dir, 'recipe.json'),
    JSON.stringify({
      id: name,
      name: 'Tiny LLM without Range',
      version: '1.0.0',
      kind: 'llm',
      ...(pins.memoryGiB !== undefined ? { requires: { memoryGiB: pins.memoryGiB } } : {}),
      weights: [
        {
          id: 'model',
          url,
          file: 'tiny.gguf',
          ...(pins.size !== undefined ? { size: pins.size } : {}),
          ...(pins.sha256 ? { sha256: pins.sha256 } : {}),
        },
      ],
      install: [{ kind: 'fetch' }, { kind: 'link', weight: 'model' }],
      service: { type: 'llm', args: ['--model', '{{weights.model.path}}', '--threads', '1'], readiness: { http: '/health' } },
    }),
  );
  return dir;
}

test(
  'a server without Range: a pinned recipe installs by its pinned figures; too big is refused without litter; --force ' + 'passes',
  async () => {
    const bytes = await readFile(path.join(root, 'tiny.gguf'));
    const plain = await startRangeServer({ 'tiny.gguf': bytes }, { range: false });
    try {
      const pins = { size: bytes.length, sha256: plain.sha256('tiny.gguf') };
      const home = path.join(root, 'home rangeless');
      const fits = await rangelessRecipe('tiny-plain', plain.url('tiny.gguf'), { ...pins, memoryGiB: 1 });
      const ok = await runCli(['install', fits], { home });
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stderr, /fit: fits by the recipe's pinned figures — needs 1 GiB/);
      assert.ok(existsSync(path.join(home, 'apps', 'tiny-plain', 'models', 'tiny.gguf')));

      const huge = await rangelessRecipe('tiny-huge', plain.url('tiny.gguf'), { ...pins, memoryGiB: 100000 });
      const refused = await runCli(['install', huge], { home });
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /the recipe says it needs 100000 GiB of memory/);
      assert.ok(!existsSync(path.join(home, 'apps', 'tiny-huge')), 'no failed app folder is left behind');
      const forced = await runCli(['install', huge, '--force'], { home });
      assert.equal(forced.code, 0, forced.stderr);

      const unpinned = await rangelessRecipe('tiny-unpinned', plain.url('tiny.gguf'), {});
      const unknown = await runCli(['install', unpinned], { home });
      assert.equal(unknown.code, 1, unknown.stderr);
      assert.match(unknown.stderr, /cannot tell whether the model fits: the model's header could not be read/);
      assert.match(unknown.stderr, /--force/);
      assert.ok(!existsSync(path.join(home, 'apps', 'tiny-unpinned')));
      const unknownForced = await runCli(['install', unpinned, '--force'], { home });
      assert.equal(unknownForced.code, 0, unknownForced.stderr);
      assert.match(unknownForced.stderr, /fit: unknown — .*installing anyway \(--force\)/);
    } finally {
      await plain.close();
    }
  },
);

/** A tiny LLM recipe with a quantization input: one pinned weight per choice, and a memory need per choice. */
async function quantRecipe(name: string, url: (file: string) => string, sha256: string, size: number): Promise<string> {
  const dir = path.join(root, 'recipes', name);
  await mkdir(dir, { recursive: true });
  const when = (quant: string) => ({ input: { quant } });
  await writeFile(
    path.join(dir, 'recipe.json'),
    JSON.stringify({
      id: name,
      name: 'Tiny LLM with quantizations',
      version: '1.0.0',
      kind: 'llm',
      requires: {
        memoryGiB: 1,
        variants: [
          { when: when('small'), memoryGiB: 1 },
          { when: when('big'), memoryGiB: 100000 },
        ],
      },
      inputs: { quant: { type: 'choice', choices: ['small', 'big'], default: 'small' } },
      weights: ['small', 'big'].map((q) => ({ id: q, url: url(`${q}.gguf`), file: `${q}/${q}.gguf`, size, sha256, when: when(q) })),
      install: [{ kind: 'fetch' }, ...['small', 'big'].map((q) => ({ kind: 'link', weight: q, when: when(q) }))],
      service: { type: 'llm', args: ['--model', '{{app.models}}/{{inputs.quant}}', '--threads', '1'], readiness: { http: '/health' } },
    }),
  );
  return dir;
}

test('the fit gate judges the chosen quantization: its header, or its own pinned memory need (requires.variants)', async () => {
  const bytes = await readFile(path.join(root, 'tiny.gguf'));
  const files = { 'small.gguf': bytes, 'big.gguf': bytes };
  const ranged = await startRangeServer(files);
  const plain = await startRangeServer(files, { range: false });
  try {
    // With Range: only the chosen quantization's header is read before its download.
    const home = path.join(root, 'home quant');
    const withRange = await quantRecipe('tiny-quant', (f) => ranged.url(f), ranged.sha256('small.gguf'), bytes.length);
    const big = await runCli(['install', withRange, '--input', 'quant=big'], { home });
    assert.equal(big.code, 0, big.stderr);
    assert.match(big.stderr, /fit: fits — needs/);
    assert.ok(ranged.requests.length > 0 && ranged.requests.every((r) => r.includes('/big.gguf')), ranged.requests.join(', '));
    assert.ok(existsSync(path.join(home, 'apps', 'tiny-quant', 'models', 'big', 'big.gguf')));
    assert.ok(!existsSync(path.join(home, 'apps', 'tiny-quant', 'models', 'small')));

    // Without Range: the chosen quantization's pinned need decides, not the recipe's base figure.
    const rangeless = await quantRecipe('tiny-quant-plain', (f) => plain.url(f), plain.sha256('small.gguf'), bytes.length);
    const refused = await runCli(['install', rangeless, '--input', 'quant=big'], { home });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /the recipe says it needs 100000 GiB of memory/);
    assert.ok(!existsSync(path.join(home, 'apps', 'tiny-quant-plain')), 'no failed app folder is left behind');
    const small = await runCli(['install', rangeless, '--input', 'quant=small'], { home });
    assert.equal(small.code, 0, small.stderr);
    assert.match(small.stderr, /fit: fits by the recipe's pinned figures — needs 1 GiB/);
    assert.ok(existsSync(path.join(home, 'apps', 'tiny-quant-plain', 'models', 'small', 'small.gguf')));
  } finally {
    await ranged.close();
    await plain.close();
  }
});
