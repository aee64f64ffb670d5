import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { appPaths, resolveHome } from '../../engine/core/home.js';
import { planRecipe } from '../../engine/recipe/plan.js';
import { makeProfile } from '../../engine/recipe/profile.js';
import { recipeSchema } from '../../engine/recipe/schema.js';
import { templateVariables } from '../../engine/recipe/template-vars.js';
import { validateRecipe } from '../../engine/recipe/validate.js';
import { repoRoot } from '../helpers/paths.js';

/**
 * docs/recipes.md cannot drift from the schema: every ```json block in it is marked either
 * `<!-- recipe -->` (a complete recipe, fully validated) or `<!-- fragment: #/$defs/X -->` (validated
 * against that part of the schema), and an unmarked block fails.
 */
interface Block {
  /** 1-based line of the opening fence. */
  line: number;
  marker: string | undefined;
  text: string;
}

const guideFile = path.join(repoRoot, 'docs', 'recipes.md');
const RECIPE = /^<!--\s*recipe\s*-->$/;
const FRAGMENT = /^<!--\s*fragment:\s*(#\/\S+)\s*-->$/;
const ANY_MARKER = /^<!--\s*(recipe|fragment\b)/;

function jsonBlocks(markdown: string): { blocks: Block[]; orphanMarkers: number[] } {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  const usedMarkers = new Set<number>();
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)(`{3,}|~{3,})\s*(\S*)/.exec(lines[i]!);
    if (!fence) continue;
    const close = fence[2]!;
    let end = i + 1;
    while (end < lines.length && !lines[end]!.trim().startsWith(close)) end++;
    if (/^json5?$|^jsonc$/i.test(fence[3] ?? '')) {
      const prev = i > 0 ? lines[i - 1]!.trim() : '';
      const marker = ANY_MARKER.test(prev) ? prev : undefined;
      if (marker) usedMarkers.add(i - 1);
      blocks.push({ line: i + 1, marker, text: lines.slice(i + 1, end).join('\n') });
    }
    i = end;
  }
  const orphanMarkers = lines.flatMap((l, i) => (ANY_MARKER.test(l.trim()) && !usedMarkers.has(i) ? [i + 1] : []));
  return { blocks, orphanMarkers };
}

async function guide(): Promise<{ markdown: string; blocks: Block[]; orphanMarkers: number[] }> {
  const markdown = await readFile(guideFile, 'utf8');
  return { markdown, ...jsonBlocks(markdown) };
}

function fragmentValidator() {
  const ajv = new Ajv2020({ allErrors: true, discriminator: true, strict: true, allowUnionTypes: true });
  ajv.addSchema(recipeSchema);
  const cache = new Map<string, ReturnType<typeof ajv.compile>>();
  return (ref: string) => {
    let validate = cache.get(ref);
    if (!validate) {
      validate = ajv.compile({ $ref: `${recipeSchema.$id}${ref}` });
      cache.set(ref, validate);
    }
    return validate;
  };
}

test('the guide has examples, and every json block in it is marked as a recipe or a fragment', async () => {
  const { blocks, orphanMarkers } = await guide();
  const unmarked = blocks.filter((b) => b.marker === undefined).map((b) => `line ${b.line}`);
  assert.deepEqual(unmarked, [], 'json blocks need <!-- recipe --> or <!-- fragment: #/$defs/X --> on the line before the fence');
  const malformed = blocks
    .filter((b) => b.marker && !RECIPE.test(b.marker) && !FRAGMENT.test(b.marker))
    .map((b) => `line ${b.line}: ${b.marker}`);
  assert.deepEqual(malformed, [], 'markers must read <!-- recipe --> or <!-- fragment: #/... -->');
  assert.deepEqual(orphanMarkers, [], 'a marker must sit on the line right before a ```json fence');
  assert.ok(blocks.filter((b) => RECIPE.test(b.marker ?? '')).length >= 3, 'the guide should show complete recipes');
  assert.ok(blocks.length >= 30, `only ${blocks.length} examples`);
});

test('every complete recipe in the guide passes full validation', async () => {
  const { blocks } = await guide();
  const failures: string[] = [];
  for (const b of blocks.filter((x) => RECIPE.test(x.marker ?? ''))) {
    const value = parseBlock(b, failures);
    if (value === NOT_JSON) continue;
    const result = validateRecipe(value);
    if (!result.ok) failures.push(`line ${b.line}:\n${result.errors.map((e) => `  ${e.pointer || '/'}: ${e.message}`).join('\n')}`);
  }
  assert.equal(failures.length, 0, `recipes in docs/recipes.md that do not validate:\n${failures.join('\n')}`);
});

test('every complete recipe in the guide can be planned for each named profile', async () => {
  const { blocks } = await guide();
  const home = resolveHome({ ORCHARD_HOME: path.join(repoRoot, '.no-such-orchard-home') });
  const profiles = [makeProfile('darwin-arm64', 'metal'), makeProfile('linux-x64', 'cuda'), makeProfile('linux-x64', 'cpu')];
  const failures: string[] = [];
  for (const b of blocks.filter((x) => RECIPE.test(x.marker ?? ''))) {
    const result = validateRecipe(JSON.parse(b.text));
    if (!result.ok) continue; // reported by the validation test
    for (const profile of profiles) {
      try {
        const plan = await planRecipe({ recipe: result.recipe, file: guideFile, dir: path.dirname(guideFile) }, { profile, home });
        assert.equal(plan.recipe.id, result.recipe.id);
      } catch (err) {
        failures.push(`line ${b.line} on ${profile.name}: ${(err as Error).message}`);
      }
    }
  }
  assert.deepEqual(failures, []);
});

test('every fragment in the guide matches the schema definition it names', async () => {
  const { blocks } = await guide();
  const validatorFor = fragmentValidator();
  const failures: string[] = [];
  for (const b of blocks) {
    const ref = FRAGMENT.exec(b.marker ?? '')?.[1];
    if (!ref) continue;
    const value = parseBlock(b, failures);
    if (value === NOT_JSON) continue;
    let validate: ReturnType<typeof validatorFor>;
    try {
      validate = validatorFor(ref);
    } catch (err) {
      failures.push(`line ${b.line}: ${ref} is not a part of the schema: ${(err as Error).message}`);
      continue;
    }
    if (!validate(value)) {
      failures.push(
        `line ${b.line} (${ref}):\n` +
          `${(validate.errors ?? []).map((e) => `  ${e.instancePath || '/'}: ${e.message ?? e.keyword}`).join('\n')}`,
      );
    }
  }
  assert.equal(failures.length, 0, `fragments in docs/recipes.md that do not match the schema:\n${failures.join('\n')}`);
});

test('the fragment check is real: a wrong fragment is rejected by the same validator', () => {
  const validatorFor = fragmentValidator();
  assert.equal(validatorFor('#/$defs/GitStep')({ kind: 'git', url: 'https://x.invalid/a.git' }), false, 'git step without ref');
  assert.equal(validatorFor('#/$defs/Step')({ kind: 'download' }), false, 'unknown step kind');
  assert.equal(validatorFor('#/$defs/Condition')({ platfrom: 'linux-x64' }), false, 'unknown condition key');
  assert.equal(validatorFor('#/$defs/GitStep')({ kind: 'git', url: 'https://x.invalid/a.git', ref: 'main' }), true);
  assert.throws(() => validatorFor('#/$defs/NoSuchThing'));
});

test('templates in the examples use only variables the engine knows', async () => {
  const { blocks } = await guide();
  const known = engineVariableNames();
  const unknown: string[] = [];
  for (const b of blocks) {
    for (const m of b.text.matchAll(/\{\{\s*([^{}]*?)\s*\}\}/g)) {
      const name = m[1]!
        .replace(/^inputs\.[A-Za-z0-9_]+$/, 'inputs.<name>')
        .replace(/^weights\.[A-Za-z0-9_-]+\.path$/, 'weights.<id>.path');
      if (!known.has(name)) unknown.push(`line ${b.line}: {{${m[1]}}}`);
    }
  }
  assert.deepEqual(unknown, []);
});

test('the template variable table lists exactly the variables the engine knows', async () => {
  const { markdown } = await guide();
  const section = markdown.split(/^## /m).find((s) => s.startsWith('Template variables'));
  assert.ok(section, 'docs/recipes.md needs a "## Template variables" section');
  const documented = new Set([...section.matchAll(/^\| `\{\{([^}]+)\}\}` \|/gm)].map((m) => m[1]!));
  assert.deepEqual([...documented].sort(), [...engineVariableNames()].sort());
});

test('the guide covers every top-level field and every step kind', async () => {
  const { markdown, blocks } = await guide();
  const fields = Object.keys(recipeSchema.properties);
  const missingFields = fields.filter((f) => !markdown.includes(`| \`${f}\` |`));
  assert.deepEqual(missingFields, [], 'top-level fields without a row in the field table');
  const stepDefs = recipeSchema.$defs.Step.oneOf.map((s) => s.$ref.replace('#/$defs/', ''));
  const shown = new Set(blocks.map((b) => FRAGMENT.exec(b.marker ?? '')?.[1]?.replace('#/$defs/', '')));
  assert.deepEqual(
    stepDefs.filter((d) => !shown.has(d)),
    [],
    'step kinds without a fragment example',
  );
  for (const def of ['Requirements', 'Input', 'Weight', 'Condition', 'Verify', 'Service']) {
    assert.ok(shown.has(def), `no fragment example for ${def}`);
  }
});

/** The names the engine's template table defines, with inputs/weights as their documented patterns. */
function engineVariableNames(): Set<string> {
  const home = resolveHome({ ORCHARD_HOME: '/orchard-home' });
  const vars = templateVariables({
    app: appPaths(home, 'x'),
    home,
    recipeDir: '/recipe',
    profile: makeProfile('linux-x64', 'cpu'),
    inputs: { someInput: 'v' },
    weights: [{ id: 'w', path: '/p' }],
    withPort: true,
  });
  return new Set(
    [...vars.keys()].map((k) => (k.startsWith('inputs.') ? 'inputs.<name>' : k.startsWith('weights.') ? 'weights.<id>.path' : k)),
  );
}

const NOT_JSON = Symbol('not JSON');
/** A block's JSON, or NOT_JSON after recording why it does not parse. */
function parseBlock(b: { line: number; text: string }, failures: string[]): unknown {
  try {
    return JSON.parse(b.text) as unknown;
  } catch (err) {
    failures.push(`line ${b.line}: not JSON: ${(err as Error).message}`);
    return NOT_JSON;
  }
}
