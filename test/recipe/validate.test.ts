import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { validateRecipe, type RecipeIssue } from '../../engine/recipe/validate.js';
import { fixturesDir } from '../helpers/paths.js';

const base = async (): Promise<Record<string, unknown>> =>
  JSON.parse(await readFile(path.join(fixturesDir, 'recipes', 'valid', 'platform-demo', 'recipe.json'), 'utf8')) as Record<string, unknown>;

function errorsOf(value: unknown): RecipeIssue[] {
  const result = validateRecipe(value);
  assert.equal(result.ok, false, 'expected the recipe to be rejected');
  return result.ok ? [] : result.errors;
}

test('the platform demo recipe is valid', async () => {
  const result = validateRecipe(await base());
  assert.deepEqual(result.ok ? [] : result.errors, []);
});

test('every schema error is reported, each at its own pointer', async () => {
  const r = await base();
  r['version'] = 'one';
  r['colour'] = 'green';
  (r['install'] as Record<string, unknown>[])[0]!['depth'] = 1;
  const pointers = errorsOf(r)
    .map((e) => e.pointer)
    .sort();
  assert.deepEqual(pointers, ['/colour', '/install/0/depth', '/version']);
});

test('an unknown step kind names the kinds', async () => {
  const r = await base();
  (r['install'] as unknown[]).push({ kind: 'download', url: 'https://x.invalid/a' });
  const [err] = errorsOf(r);
  assert.equal(err?.pointer, '/install/6/kind');
  assert.match(err?.message ?? '', /unknown step kind "download"/);
  assert.match(err?.hint ?? '', /git, extract, env, run/);
});

test('semantic errors: templates, shell strings, paths, duplicates, references', async () => {
  const r = await base();
  const install = r['install'] as Record<string, unknown>[];
  install.push(
    { kind: 'run', id: 'torch-mac', command: ['echo', '{{inputs.nope}}'] },
    { kind: 'run', command: 'pip install x' },
    { kind: 'write', path: '../../outside.txt', content: 'x' },
    { kind: 'link', weight: 'ghost' },
    { kind: 'run', command: ['serve', '{{port}}'] },
    { kind: 'run', command: ['x'], when: { input: { variant: 'huge' } } },
  );
  const found = new Map(errorsOf(r).map((e) => [e.pointer, e.message]));
  assert.match(found.get('/install/6/id') ?? '', /duplicate step id "torch-mac"/);
  assert.match(found.get('/install/6/command/1') ?? '', /unknown template variable \{\{inputs.nope\}\}/);
  assert.match(found.get('/install/7/command') ?? '', /needs "shell": true/);
  assert.match(found.get('/install/8/path') ?? '', /outside the app folder/);
  assert.match(found.get('/install/9/weight') ?? '', /unknown weight "ghost"/);
  assert.match(found.get('/install/10/command/1') ?? '', /\{\{port\}\}/);
  assert.match(found.get('/install/11/when/input/variant') ?? '', /not a choice/);
});

test('templates in hidden branches are checked too', async () => {
  const r = await base();
  (r['install'] as Record<string, unknown>[])[2]!['command'] = ['{{env.pyton}}'];
  assert.equal(errorsOf(r)[0]?.pointer, '/install/2/command/0');
});

test('the port is allowed in the service', async () => {
  const result = validateRecipe(await base());
  assert.equal(result.ok, true);
});
