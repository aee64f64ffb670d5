import assert from 'node:assert/strict';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseJson, runCli, type CliResult } from '../helpers/cli.js';
import { fixturesDir, tempDir } from '../helpers/paths.js';

/**
 * Every malformed recipe in test/fixtures/recipes/malformed/ goes through the real CLI
 * (`orchard recipe validate <file> --json`), the way an author meets it: exit 1, `ok: false`, the
 * expected JSON pointer and message, and nothing written into ORCHARD_HOME.
 */
interface Issue {
  pointer: string;
  message: string;
  hint?: string;
}
interface ValidateOutput {
  ok: boolean;
  errors: Issue[];
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

/** Run `orchard recipe validate` on each file, a few at a time (node start-up dominates). */
async function validateAll(files: string[], extra: string[]): Promise<Map<string, CliResult>> {
  const results = new Map<string, CliResult>();
  const queue = [...files];
  const worker = async (): Promise<void> => {
    for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
      results.set(file, await runCli(['recipe', 'validate', path.join(malformedDir, file), ...extra], { home, timeoutMs: 30_000 }));
    }
  };
  await Promise.all([worker(), worker(), worker()]);
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

test('the minimal fixture is valid through the CLI (so the malformed ones fail for their mistake)', async () => {
  const result = await runCli(['recipe', 'validate', minimalRecipe, '--json'], { home, timeoutMs: 30_000 });
  const out = parseJson<ValidateOutput>(result);
  assert.deepEqual(out.errors, []);
  assert.equal(out.ok, true);
  assert.equal(result.code, 0);
});

test('every malformed recipe is rejected by `orchard recipe validate --json` at the expected pointer, and nothing is written', async () => {
  const index = await expectations();
  const files = await fixtureFiles();
  const results = await validateAll(files, ['--json']);
  const failures: string[] = [];
  for (const file of files) {
    const expected = index[file]!;
    const result = results.get(file)!;
    let out: ValidateOutput;
    try {
      out = JSON.parse(result.stdout) as ValidateOutput;
    } catch {
      failures.push(`${file}: exit ${result.code} and no JSON on stdout; stderr: ${result.stderr.trim().split('\n').slice(0, 6).join(' | ')}`);
      continue;
    }
    const errors = Array.isArray(out.errors) ? out.errors : [];
    const problems: string[] = [];
    if (result.code !== 1) problems.push(`exit code ${result.code}, expected 1`);
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
  assert.deepEqual(await readdir(home), [], 'validation must not change ORCHARD_HOME');
  assert.equal(failures.length, 0, `${failures.length} of ${files.length} fixtures did not fail as expected:\n${failures.join('\n')}`);
});

test('human output lists each problem as file:pointer: message and exits 1', async () => {
  const index = await expectations();
  const sample = ['invalid-json-syntax.json', 'unknown-step-key.json', 'run-string-without-shell.json', 'path-escapes-with-dotdot.json', 'condition-value-not-a-choice.json'];
  const results = await validateAll(sample, []);
  for (const file of sample) {
    const expected = index[file]!;
    const result = results.get(file)!;
    assert.equal(result.code, 1, `${file}: exit code`);
    const prefix = `${path.join(malformedDir, file)}:${expected.pointer || '/'}: `;
    const line = result.stderr.split('\n').find((l) => l.startsWith(prefix));
    assert.ok(line, `${file}: no line starting with "${prefix}" in:\n${result.stderr}`);
    assert.ok(line.includes(expected.message), `${file}: "${line}" lacks ${JSON.stringify(expected.message)}`);
    assert.doesNotMatch(result.stderr, /\n\s+at .+:\d+:\d+/, `${file}: a stack trace was printed`);
  }
  assert.deepEqual(await readdir(home), [], 'validation must not change ORCHARD_HOME');
});
