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
import { parseJson, runCli } from '../helpers/cli.js';
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

/** The GGUF LLM recipes, their quantizations (in order of size) and default (issue 18: each offers its quantizations). */
const QUANTS: Record<string, { choices: string[]; default: string }> = {
  'llama-3-1-8b-instruct': { choices: ['Q3_K_M', 'Q4_K_M', 'Q5_K_M', 'Q6_K', 'Q8_0'], default: 'Q4_K_M' },
  'llama-3-3-70b-instruct': { choices: ['Q4_K_M', 'Q5_K_M', 'Q6_K', 'Q8_0'], default: 'Q4_K_M' },
  'qwen-2-5-72b-instruct': { choices: ['Q3_K_M', 'Q4_K_M', 'Q6_K'], default: 'Q4_K_M' },
  'deepseek-r1-distill-qwen-32b': { choices: ['Q3_K_L', 'Q4_K_M', 'Q6_K', 'Q8_0'], default: 'Q4_K_M' },
  'llama-3-1-405b-instruct': { choices: ['Q3_K_M', 'Q4_K_M'], default: 'Q3_K_M' },
};

test('every GGUF LLM recipe offers its quantizations, each with its own files, download size and memory need', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const home = resolveHome({ ORCHARD_HOME: dir });
    assert.deepEqual(Object.keys(QUANTS).sort(), [...LLM_RECIPES].sort());
    for (const [id, expected] of Object.entries(QUANTS)) {
      const loaded = await loadRecipe(path.join(repoRoot, 'recipes', id, 'recipe.json'));
      const input = loaded.recipe.inputs?.['quant'];
      assert.equal(input?.type, 'choice', id);
      assert.deepEqual(input?.choices, expected.choices, id);
      assert.equal(input?.default, expected.default, id);
      const byDefault = await planRecipe(loaded, { profile: makeProfile('linux-x64', 'cuda'), home });
      const needs = byDefault.choiceNeeds?.['quant'];
      assert.ok(needs, `${id}: the plan lists what each quantization costs`);
      assert.deepEqual(Object.keys(needs), expected.choices);
      let previous = { memoryGiB: 0, diskGiB: 0 };
      const used = new Set<string>();
      for (const quant of expected.choices) {
        const plan = await planRecipe(loaded, { profile: makeProfile('linux-x64', 'cuda'), home, inputs: { quant } });
        assert.deepEqual(plan.blockers, [], `${id} ${quant}`);
        // Only this quantization's files, in one folder named after it, which the service and the probe load.
        assert.ok(plan.weights.length >= 1);
        for (const w of plan.weights) {
          assert.ok(w.file.startsWith(`${quant}/`) && w.file.includes(quant) && w.url.includes(quant), `${id} ${quant}: ${w.url}`);
          used.add(w.id);
        }
        assert.equal(new Set(plan.weights.map((w) => path.dirname(w.path))).size, 1);
        const modelArg = plan.service?.args[plan.service.args.indexOf('--model') + 1];
        assert.equal(modelArg, path.join(plan.paths.models, quant));
        assert.ok(modelWeight(plan)?.path.startsWith(`${modelArg}/`), `${id} ${quant}: the fit check reads this quantization's header`);
        const link = plan.scripts.install.filter((s) => s.kind === 'link');
        assert.equal(link.length, plan.weights.length);
        // Its own memory and disk need (requires.variants), the same the choice list shows, growing with the size.
        const { memoryGiB, diskGiB } = plan.requirements;
        assert.ok(memoryGiB !== undefined && diskGiB !== undefined, `${id} ${quant}: a need for each quantization`);
        assert.ok(memoryGiB > diskGiB && memoryGiB > previous.memoryGiB && diskGiB > previous.diskGiB, `${id} ${quant}`);
        assert.deepEqual(needs[quant], { memoryGiB, diskGiB, weights: plan.weights.length });
        previous = { memoryGiB, diskGiB };
      }
      assert.deepEqual(
        [...used].sort(),
        (loaded.recipe.weights ?? []).map((w) => w.id).sort(),
        `${id}: every declared weight belongs to a quantization`,
      );
      assert.deepEqual(
        byDefault.requirements.memoryGiB,
        loaded.recipe.requires?.memoryGiB,
        `${id}: the recipe's own need is its default quantization's`,
      );
    }
  } finally {
    await cleanup();
  }
});

test('the 70B at Q8_0: its two parts side by side, and the memory and disk need of Q8_0, not of the default', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const loaded = await loadRecipe(path.join(repoRoot, 'recipes', 'llama-3-3-70b-instruct', 'recipe.json'));
    const home = resolveHome({ ORCHARD_HOME: dir });
    const plan = await planRecipe(loaded, { profile: makeProfile('darwin-arm64', 'metal'), home, inputs: { quant: 'Q8_0' } });
    assert.deepEqual(
      plan.weights.map((w) => w.url),
      [1, 2].map(
        (n) =>
          'https://huggingface.co/bartowski/Llama-3.3-70B-Instruct-GGUF/resolve/main/Llama-3.3-70B-Instruct-Q8_0/' +
          `Llama-3.3-70B-Instruct-Q8_0-0000${n}-of-00002.gguf`,
      ),
    );
    assert.deepEqual(
      plan.weights.map((w) => path.relative(plan.paths.models, w.path)),
      ['Q8_0/Llama-3.3-70B-Instruct-Q8_0-00001-of-00002.gguf', 'Q8_0/Llama-3.3-70B-Instruct-Q8_0-00002-of-00002.gguf'],
    );
    assert.equal(plan.requirements.memoryGiB, 74);
    assert.equal(plan.requirements.diskGiB, 69.8);
    const byDefault = await planRecipe(loaded, { profile: makeProfile('darwin-arm64', 'metal'), home });
    assert.deepEqual(
      byDefault.weights.map((w) => path.relative(byDefault.paths.models, w.path)),
      ['Q4_K_M/Llama-3.3-70B-Instruct-Q4_K_M.gguf'],
    );
    assert.equal(byDefault.requirements.memoryGiB, 44);
  } finally {
    await cleanup();
  }
});

test('orchard plan lists every quantization with its download and memory need, marking the chosen one', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const text = await runCli(['plan', 'llama-3-1-8b-instruct', '--profile', 'linux-x64-cuda', '--input', 'quant=Q5_K_M'], {
      home: dir,
    });
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.split('\n');
    const at = lines.findIndex((l) => l.startsWith('choices for quant'));
    assert.ok(at > 0, text.stdout);
    assert.deepEqual(lines.slice(at + 1, at + 6), [
      '    Q3_K_M — ~3.8 GiB download, needs 6.0 GiB of memory',
      '    Q4_K_M — ~4.6 GiB download, needs 7.0 GiB of memory',
      '  * Q5_K_M — ~5.4 GiB download, needs 8.0 GiB of memory',
      '    Q6_K — ~6.2 GiB download, needs 9.0 GiB of memory',
      '    Q8_0 — ~8.0 GiB download, needs 10.0 GiB of memory',
    ]);
    assert.match(text.stdout, /needs: memory 8 GiB; disk 5\.4 GiB/);
    assert.match(text.stdout, /--model '?[^\n]*\/models\/Q5_K_M'? --context/);
    const split = await runCli(['plan', 'qwen-2-5-72b-instruct', '--profile', 'linux-x64-cuda'], { home: dir });
    assert.match(split.stdout, / {4}Q6_K — ~60\.0 GiB download in 2 parts, needs 64\.0 GiB of memory/);
    const json = parseJson<{ choiceNeeds: Record<string, Record<string, { memoryGiB: number }>> }>(
      await runCli(['plan', 'qwen-2-5-72b-instruct', '--profile', 'linux-x64-cuda', '--json'], { home: dir }),
    );
    assert.equal(json.choiceNeeds['quant']?.['Q3_K_M']?.memoryGiB, 39);
    const help = await runCli(['install', '--help'], { home: dir });
    assert.match(help.stdout.replace(/\s+/g, ' '), /`orchard plan <recipe>` lists each choice with its download and memory need/);
  } finally {
    await cleanup();
  }
});
