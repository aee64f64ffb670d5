import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { resolveHome } from '../../engine/core/home.js';
import { modelWeight } from '../../engine/fit/recipe-fit.js';
import { loadRecipe } from '../../engine/recipe/load.js';
import { planRecipe } from '../../engine/recipe/plan.js';
import { makeProfile } from '../../engine/recipe/profile.js';
import { validateRecipe } from '../../engine/recipe/validate.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const LLM_RECIPES = [
  'llama-3-1-8b-instruct',
  'llama-3-3-70b-instruct',
  'llama-3-1-405b-instruct',
  'qwen-2-5-72b-instruct',
  'deepseek-r1-distill-qwen-32b',
];

test('every bundled LLM recipe validates and plans for darwin-arm64-metal and linux-x64-cuda', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const home = resolveHome({ ORCHARD_HOME: dir });
    for (const id of LLM_RECIPES) {
      const file = path.join(repoRoot, 'recipes', id, 'recipe.json');
      const result = validateRecipe(JSON.parse(await readFile(file, 'utf8')));
      assert.ok(result.ok, `${id}: ${JSON.stringify(!result.ok && result.errors)}`);
      const loaded = await loadRecipe(file);
      for (const [profile, backend] of [
        [makeProfile('darwin-arm64', 'metal'), 'metal'],
        [makeProfile('linux-x64', 'cuda'), 'cuda'],
      ] as const) {
        const plan = await planRecipe(loaded, { profile, home });
        assert.deepEqual(plan.blockers, [], `${id} on ${profile.name}`);
        assert.equal(plan.expectedBackend, backend);
        assert.equal(plan.service?.type, 'llm');
        assert.equal(plan.service?.readiness.http, '/health');
        assert.ok(plan.service?.args.includes('--context'));
        assert.ok(plan.weights.length >= 1 && plan.weights.every((w) => w.url.startsWith('https://huggingface.co/')));
        const kinds = plan.scripts.install.map((s) => s.kind);
        assert.equal(kinds[0], 'fetch');
        assert.equal(kinds.at(-1), 'verify');
        assert.equal(kinds.filter((k) => k === 'link').length, plan.weights.length);
        const w = modelWeight(plan);
        assert.ok(w && /(?<!-\d{5}-of-\d{5})\.gguf$|-00001-of-\d{5}\.gguf$/.test(w.file), `${id}: model weight ${w?.file}`);
      }
    }
  } finally {
    await cleanup();
  }
});

test('the 405B recipe declares one weight per part for both quants, side by side, and the service loads the first', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const loaded = await loadRecipe(path.join(repoRoot, 'recipes', 'llama-3-1-405b-instruct', 'recipe.json'));
    const plan = await planRecipe(loaded, {
      profile: makeProfile('darwin-arm64', 'metal'),
      home: resolveHome({ ORCHARD_HOME: dir }),
      inputs: { quant: 'Q3_K_M' },
    });
    assert.equal(plan.weights.length, 5);
    assert.equal(new Set(plan.weights.map((w) => path.dirname(w.path))).size, 1);
    assert.match(modelWeight(plan)!.file, /-00001-of-00005\.gguf$/);
    assert.ok(plan.weights.every((w) => w.auth === 'huggingface' && w.gatedPage));
    // Q4_K_M: six parts from another repository, linked side by side under models/Q4_K_M/.
    const q4 = await planRecipe(loaded, {
      profile: makeProfile('linux-x64', 'cuda'),
      home: resolveHome({ ORCHARD_HOME: dir }),
      inputs: { quant: 'Q4_K_M' },
    });
    assert.deepEqual(q4.blockers, []);
    assert.deepEqual(
      q4.weights.map((w) => path.basename(w.path)),
      [1, 2, 3, 4, 5, 6].map((n) => `Meta-Llama-3.1-405B-Instruct-Q4_K_M-0000${n}-of-00006.gguf`),
    );
    assert.equal(new Set(q4.weights.map((w) => path.dirname(w.path))).size, 1);
    assert.match(path.dirname(q4.weights[0]!.path), /Q4_K_M$/);
    assert.match(modelWeight(q4)!.file, /Q4_K_M-00001-of-00006\.gguf$/);
    assert.equal(q4.scripts.install.filter((s) => s.kind === 'link').length, 6);
    assert.ok(q4.service?.args.some((a) => a.endsWith('Q4_K_M')));
  } finally {
    await cleanup();
  }
});
