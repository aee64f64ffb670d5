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
  const generated = await compile(schema, 'Recipe', {
    bannerComment: '/* Generated from recipe.schema.json by scripts/gen-recipe-types.mjs. Do not edit: edit the schema and regenerate. */',
    additionalProperties: false,
    unreachableDefinitions: true,
    strictIndexSignatures: true,
    style: { singleQuote: true, printWidth: 120 },
  });
  return generated.split('\n').map(wrapCommentLine).join('\n');
}

const MAX_LINE = 140;

// Schema descriptions land in JSDoc lines (` * text`) that prettier does not wrap: break them at spaces so that
// no generated line is longer than MAX_LINE characters, each continuation keeping the ` * ` prefix.
function wrapCommentLine(line) {
  const match = /^(\s*\* )(.*)$/.exec(line);
  if (line.length <= MAX_LINE || !match) return line;
  const [, prefix, text] = match;
  const out = [];
  let current = '';
  for (const word of text.split(' ')) {
    if (current !== '' && prefix.length + current.length + 1 + word.length > MAX_LINE) {
      out.push(prefix + current);
      current = word;
    } else {
      current = current === '' ? word : `${current} ${word}`;
    }
  }
  out.push(prefix + current);
  return out.join('\n');
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
