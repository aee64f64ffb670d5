// Regenerates engine/recipe/recipe.types.gen.ts from the recipe schema (the single source of truth).
// `node scripts/gen-recipe-types.mjs --check` exits 1 when the committed file has drifted.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const schemaFile = path.join(root, 'engine', 'recipe', 'recipe.schema.json');
const outFile = path.join(root, 'engine', 'recipe', 'recipe.types.gen.ts');

export async function generateRecipeTypes() {
  const schema = JSON.parse(readFileSync(schemaFile, 'utf8'));
  return compile(schema, 'Recipe', {
    bannerComment: '/* Generated from recipe.schema.json by scripts/gen-recipe-types.mjs. Do not edit: edit the schema and regenerate. */',
    additionalProperties: false,
    unreachableDefinitions: true,
    strictIndexSignatures: true,
    style: { singleQuote: true, printWidth: 120 },
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const generated = await generateRecipeTypes();
  if (process.argv.includes('--check')) {
    const current = readFileSync(outFile, 'utf8');
    if (current !== generated) {
      console.error('recipe.types.gen.ts has drifted from recipe.schema.json: run `node scripts/gen-recipe-types.mjs`.');
      process.exit(1);
    }
  } else {
    writeFileSync(outFile, generated);
  }
}
