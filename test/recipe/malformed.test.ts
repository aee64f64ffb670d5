import assert from 'node:assert/strict';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { issueLines, type RecipeFileReport, validateRecipeFile } from '../../engine/cli/commands/recipe.js';
import { runCli } from '../helpers/cli.js';
import { fixturesDir, tempDir } from '../helpers/paths.js';

/**
 * Every malformed recipe in test/fixtures/recipes/malformed/ goes through what
 * `orchard recipe validate <file> --json` runs (in-process: 66 CLI starts took most of a minute):
 * `ok: false`, the expected JSON pointer and message. One test runs the real CLI on a malformed
 * file, the way an author meets it: exit 1, one line per problem, no stack, nothing written into
 * ORCHARD_HOME.
 */
interface Issue {
  pointer: string;
  message: string;
  hint?: string;
}
interface Expectation {
  pointer: string;
  message: string;
}

const malformedDir = path.join(fixturesDir, 'recipes', 'malformed');
const minimalRecipe = path.join(fixturesDir, 'recipes', 'valid', 'minimal', 'recipe.json');
const INDEX = 'expected.json';

let home = '';
let cleanup: () => Promise<void> = async () => {};

before(async () => {
  const tmp = await tempDir('orchard malformed ');
  cleanup = tmp.cleanup;
  home = path.join(tmp.dir, 'orchard home');
  await mkdir(home);
});
after(() => cleanup());

async function expectations(): Promise<Record<string, Expectation>> {
  return JSON.parse(await readFile(path.join(malformedDir, INDEX), 'utf8')) as Record<string, Expectation>;
}

async function fixtureFiles(): Promise<string[]> {
  return (await readdir(malformedDir)).filter((f) => f.endsWith('.json') && f !== INDEX).sort();
}

/** `orchard recipe validate` on each file, in-process (the CLI's own function; one test below goes through the CLI). */
async function validateAll(files: string[]): Promise<Map<string, RecipeFileReport>> {
  const results = new Map<string, RecipeFileReport>();
  for (const file of files) results.set(file, await validateRecipeFile(path.join(malformedDir, file)));
  return results;
}

function show(errors: Issue[]): string {
  return errors.map((e) => `  ${e.pointer || '/'}: ${e.message}`).join('\n') || '  (none)';
}

test('the index names every malformed fixture, and there are at least 30 distinct ones', async () => {
  const files = await fixtureFiles();
  const index = await expectations();
  assert.deepEqual(Object.keys(index).sort(), files, `${INDEX} and the fixture files must list the same recipes`);
  assert.ok(files.length >= 30, `only ${files.length} malformed recipes`);
  for (const [file, e] of Object.entries(index)) {
    assert.equal(typeof e.pointer, 'string', `${file}: pointer`);
    assert.ok(e.pointer === '' || e.pointer.startsWith('/'), `${file}: "${e.pointer}" is not a JSON pointer`);
    assert.ok(e.message.length > 0, `${file}: empty message`);
  }
});

test('the minimal fixture is valid (so the malformed ones fail for their mistake)', async () => {
  const out = await validateRecipeFile(minimalRecipe);
  assert.deepEqual(out.errors, []);
  assert.equal(out.ok, true);
});

test('every malformed recipe is rejected by `orchard recipe validate --json` at the expected pointer', async () => {
  const index = await expectations();
  const files = await fixtureFiles();
  const results = await validateAll(files);
  const failures: string[] = [];
  for (const file of files) {
    const expected = index[file]!;
    const out = results.get(file)!;
    const errors = out.errors;
    const problems: string[] = [];
    if (out.ok !== false) problems.push(`ok is ${String(out.ok)}`);
    if (!errors.some((e) => e.pointer === expected.pointer && e.message.includes(expected.message))) {
      problems.push(`no error at "${expected.pointer}" containing ${JSON.stringify(expected.message)}`);
    }
    // Each fixture holds one mistake: an error anywhere else means the fixture (or the validator) is off.
    const elsewhere = errors.filter((e) => e.pointer !== expected.pointer);
    if (elsewhere.length > 0) problems.push(`errors at other pointers: ${elsewhere.map((e) => e.pointer || '/').join(', ')}`);
    // Humans read them as `file:pointer: message` lines: a message must fit on its line.
    if (errors.some((e) => e.message.includes('\n'))) problems.push('a message spans several lines');
    if (problems.length > 0) failures.push(`${file}: ${problems.join('; ')}\n${show(errors)}`);
  }
  assert.equal(failures.length, 0, `${failures.length} of ${files.length} fixtures did not fail as expected:\n${failures.join('\n')}`);
});

test('human output lists each problem as file:pointer: message and exits 1', async () => {
  const index = await expectations();
  const sample = [
    'invalid-json-syntax.json',
    'unknown-step-key.json',
    'run-string-without-shell.json',
    'path-escapes-with-dotdot.json',
    'condition-value-not-a-choice.json',
  ];
  const results = await validateAll(sample);
  for (const file of sample) {
    const expected = index[file]!;
    const text = issueLines(results.get(file)!).join('');
    const prefix = `${path.join(malformedDir, file)}:${expected.pointer || '/'}: `;
    const line = text.split('\n').find((l) => l.startsWith(prefix));
    assert.ok(line, `${file}: no line starting with "${prefix}" in:\n${text}`);
    assert.ok(line.includes(expected.message), `${file}: "${line}" lacks ${JSON.stringify(expected.message)}`);
  }
  // The one round-trip through the real CLI: the same lines on stderr, exit 1, no stack, nothing written.
  const file = sample[1]!;
  const result = await runCli(['recipe', 'validate', path.join(malformedDir, file)], { home, timeoutMs: 30_000 });
  assert.equal(result.code, 1, `${file}: exit code`);
  assert.equal(result.stderr, issueLines(results.get(file)!).join(''));
  assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/, `${file}: a stack trace was printed`);
  assert.deepEqual(await readdir(home), [], 'validation must not change ORCHARD_HOME');
});
