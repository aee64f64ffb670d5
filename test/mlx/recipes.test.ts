import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { CatalogEntry } from '../../engine/api/api-types.js';
import { groupEngines } from '../../engine/api/routes/catalog.js';
import { resolveHome, type OrchardHome } from '../../engine/core/home.js';
import { listRecipes } from '../../engine/recipe/catalog.js';
import { loadRecipe } from '../../engine/recipe/load.js';
import { planRecipe } from '../../engine/recipe/plan.js';
import type { Plan } from '../../engine/recipe/plan-types.js';
import { resolveProfile } from '../../engine/recipe/resolve-profile.js';
import { specFromPlannedService } from '../../engine/supervisor/service-spec.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

// Every bundled MLX recipe: planned for darwin-arm64-metal with the venv, the pinned packages and
// the verify step; refused on linux-x64-cuda with the reason. And the models that have both engines.
const MLX = [
  'llama-3-3-70b-instruct-mlx-4bit',
  'llama-3-3-70b-instruct-mlx-8bit',
  'qwen-2-5-72b-instruct-mlx-4bit',
  'deepseek-r1-distill-qwen-32b-mlx-4bit',
  'llama-3-1-405b-instruct-mlx-4bit',
  'mistral-large-instruct-2407-mlx-4bit',
  'deepseek-v3-mlx-4bit',
];
let home: OrchardHome;
let cleanup: () => Promise<void>;
before(async () => {
  const t = await tempDir('orchard mlx recipes ');
  cleanup = t.cleanup;
  home = resolveHome({ ORCHARD_HOME: t.dir });
});
after(async () => cleanup());

async function plan(id: string, profile: string): Promise<Plan> {
  return planRecipe(await loadRecipe(path.join(repoRoot, 'recipes', id)), { profile: await resolveProfile(profile), home });
}

for (const id of MLX) {
  test(`${id}: plans on darwin-arm64-metal with the venv, pinned mlx/mlx-lm, the download and the MLX probe`, async () => {
    const p = await plan(id, 'darwin-arm64-metal');
    assert.deepEqual(p.blockers, []);
    assert.equal(p.model?.engine, 'mlx');
    const steps = p.scripts.install;
    assert.deepEqual(
      steps.map((s) => s.kind),
      ['env', 'run', 'run', 'verify'],
    );
    const env = steps[0];
    assert.ok(env?.kind === 'env' && env.params.type === 'python');
    const pip = steps[1];
    assert.ok(pip?.kind === 'run');
    assert.deepEqual(pip.params.argv?.slice(1), ['-m', 'pip', 'install', 'mlx==0.31.2', 'mlx-lm==0.31.3']);
    assert.equal(pip.params.argv?.[0], path.join(p.paths.env, 'bin', 'python'), 'pip of the app venv');
    const download = steps[2];
    assert.ok(download?.kind === 'run');
    assert.equal(download.params.env['ORCHARD_HF_REPO'], p.model?.repo?.replace('https://huggingface.co/', ''));
    assert.ok(p.hosts.includes('huggingface.co') && p.hosts.includes('pypi.org'));
    const verify = steps[3];
    assert.ok(verify?.kind === 'verify' && verify.params.probe.type === 'mlx' && verify.params.expect === 'metal');
    // The service runs Orchard's MLX wrapper as an ordinary LLM service.
    assert.equal(p.service?.type, 'llm');
    assert.equal(p.service?.engine, 'mlx');
    assert.equal(p.service?.readiness.http, '/v1/models');
    const spec = specFromPlannedService(p.service!, { cliPath: '/orchard/cli.js', logDir: '/tmp/logs', nodePath: '/usr/bin/node' });
    assert.deepEqual(spec.argv.slice(0, 6), ['/usr/bin/node', '/orchard/cli.js', 'service', 'mlx', '--port', '{{port}}']);
    assert.ok(spec.argv.includes('--python') && spec.argv.includes(path.join(p.paths.app, 'model')));
  });

  test(`${id}: refused on linux-x64-cuda with the reason`, async () => {
    const p = await plan(id, 'linux-x64-cuda');
    assert.ok(
      p.blockers.some((b) => /MLX, which is Apple-only/.test(b)),
      p.blockers.join(' | '),
    );
  });
}

test('one model, two engines: the GGUF and MLX recipes of a family share model.family', async () => {
  const recipes = await listRecipes(home);
  const byFamily = new Map<string, string[]>();
  for (const r of recipes) {
    const m = r.recipe.model;
    if (m) byFamily.set(m.family, [...(byFamily.get(m.family) ?? []), `${m.engine}:${r.recipe.id}`]);
  }
  for (const family of ['llama-3.3-70b-instruct', 'qwen-2.5-72b-instruct', 'deepseek-r1-distill-qwen-32b', 'llama-3.1-405b-instruct']) {
    const engines = (byFamily.get(family) ?? []).map((e) => e.split(':')[0]);
    assert.ok(engines.includes('gguf') && engines.includes('mlx'), `${family}: ${JSON.stringify(byFamily.get(family))}`);
  }
});

test('catalog: one card per model, MLX preferred on darwin-arm64 and GGUF elsewhere, the other engine linked', async () => {
  const recipes = await listRecipes(home);
  const make = (): CatalogEntry[] =>
    recipes.map((r) => ({
      id: r.recipe.id,
      name: r.recipe.name,
      version: r.recipe.version,
      kind: r.recipe.kind,
      source: 'bundled',
      file: r.file,
      accelerators: [],
      platforms: [],
      fit: { verdict: 'fits', reasons: [], blockers: [], facts: [] },
    }));
  const mac = make();
  groupEngines(mac, recipes, 'darwin-arm64');
  const linux = make();
  groupEngines(linux, recipes, 'linux-x64');
  const find = (list: CatalogEntry[], id: string) => list.find((e) => e.id === id)?.model;
  assert.equal(find(mac, 'llama-3-3-70b-instruct')?.preferred, false, 'GGUF is not the Mac default');
  assert.equal(find(linux, 'llama-3-3-70b-instruct')?.preferred, true, 'GGUF is the default elsewhere');
  assert.equal(find(linux, 'llama-3-3-70b-instruct-mlx-4bit')?.preferred, false);
  assert.equal(find(mac, 'qwen-2-5-72b-instruct-mlx-4bit')?.preferred, true);
  assert.deepEqual(
    find(mac, 'qwen-2-5-72b-instruct-mlx-4bit')?.others.map((o) => [o.id, o.engine]),
    [['qwen-2-5-72b-instruct', 'gguf']],
  );
  // A model with one engine only stays visible everywhere.
  assert.equal(find(linux, 'deepseek-v3-mlx-4bit')?.preferred, true);
  // Exactly one preferred card per family.
  for (const list of [mac, linux]) {
    const families = new Map<string, number>();
    for (const e of list) if (e.model?.preferred) families.set(e.model.family, (families.get(e.model.family) ?? 0) + 1);
    assert.ok(
      [...families.values()].every((n) => n === 1),
      JSON.stringify([...families]),
    );
  }
});
