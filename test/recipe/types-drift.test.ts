import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { repoRoot } from '../helpers/paths.js';

test('recipe.types.gen.ts is exactly what the schema generates (types cannot drift)', async () => {
  const generator = (await import(pathToFileURL(path.join(repoRoot, 'scripts', 'gen-recipe-types.mjs')).href)) as {
    generateRecipeTypes: () => Promise<string>;
  };
  const committed = await readFile(path.join(repoRoot, 'engine', 'recipe', 'recipe.types.gen.ts'), 'utf8');
  assert.equal(committed, await generator.generateRecipeTypes(), 'run `node scripts/gen-recipe-types.mjs` after changing the schema');
});
