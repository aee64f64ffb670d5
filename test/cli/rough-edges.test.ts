import assert from 'node:assert/strict';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

let root: string;
let home: string;
let cleanup: () => Promise<void>;
before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard cli edges '));
  home = path.join(root, 'home');
});
after(() => cleanup());

const COMMANDS = [
  'list',
  'plan',
  'install',
  'update',
  'uninstall',
  'serve',
  'open',
  'start',
  'stop',
  'status',
  'logs',
  'fit',
  'fetch',
  'doctor',
  'diagnose',
];

test('--help shows no internal defaults, unquoted number defaults, and no snake_case option', async () => {
  const commands = [...COMMANDS.map((c) => [c]), ['service', 'llm'], ['service', 'image'], ['service', 'video'], ['recipe', 'validate']];
  const helps = await Promise.all(commands.map((command) => runCli([...command, '--help'], { home })));
  for (const [i, command] of commands.entries()) {
    const help = helps[i]!;
    assert.equal(help.code, 0, `${command.join(' ')}: ${help.stderr}`);
    const what = `orchard ${command.join(' ')} --help`;
    assert.doesNotMatch(help.stdout, /\(default: (\{\}|\[\])\)/, `${what} leaks an internal default`);
    assert.doesNotMatch(help.stdout, /\(default: "\d+"\)/, `${what} quotes a number default`);
    assert.doesNotMatch(help.stdout, /--[a-z]+_[a-z_]+/, `${what} shows a snake_case option`);
  }
  const image = (await runCli(['service', 'image', '--help'], { home })).stdout;
  const video = (await runCli(['service', 'video', '--help'], { home })).stdout;
  assert.match(image, /--clip-l <file>/);
  assert.match(image.replace(/\s+/g, ' '), /--max-queue <n> jobs that may wait; more get 429 \(default: 8\)/);
  for (const videoOnly of ['--frames', '--fps', '--clip-vision', '--high-noise-diffusion-model'])
    assert.ok(!image.includes(videoOnly), `image shows ${videoOnly}`);
  assert.match(video, /--clip-vision <file>/);
  assert.match(video, /--frames <n>/);
  assert.ok(!video.includes('--clip-l'), 'video shows --clip-l');
  assert.match((await runCli(['fetch', '--help'], { home })).stdout, /\(default: 8\)/);
  const fitHelp = (await runCli(['fit', '--help'], { home })).stdout;
  assert.match(fitHelp.replace(/\s+/g, ' '), /\(choices: "auto", "metal", "cuda", "vulkan", "cpu", default: "auto"\)/);
  assert.match(fitHelp.replace(/\s+/g, ' '), /--parallel <n> parallel sequences, each with its own context \(default: 1\)/);
});

test('bad numbers and choices are usage errors (exit 2) that name the option', async () => {
  const cases: [string[], RegExp][] = [
    [['fit', 'x', '--parallel', 'two'], /--parallel must be a positive integer, not "two"/],
    [['fit', 'x', '--gpu', 'tpu'], /Allowed choices are auto, metal, cuda, vulkan, cpu/],
    [
      ['fetch', 'http://127.0.0.1:9/x', '-o', path.join(root, 'x'), '--connections', '0'],
      /--connections must be a whole number from 1 to 64, got "0"/,
    ],
    [
      ['service', 'image', '--sd-server', 'x', '--diffusion-model', 'y', '--port', 'http'],
      /--port must be an integer from 1 to 65535, not "http"/,
    ],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args, { home });
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
});

test('the plan fills in what it can: <port> assigned at start, no "none environment", KiB for a small file', async () => {
  const dir = path.join(root, 'plan-app');
  await cp(path.join(repoRoot, 'test', 'api', 'fixtures', 'api-app'), dir, { recursive: true });
  const planned = await runCli(['plan', dir], { home });
  assert.equal(planned.code, 0, planned.stderr);
  assert.doesNotMatch(planned.stdout, /\{\{\s*port\s*\}\}/);
  assert.match(planned.stdout, /--port <port>/);
  assert.match(planned.stdout, /on 127\.0\.0\.1:<port> \(a free port, assigned at start\)/);

  const small = path.join(root, 'small-weights');
  await mkdir(small, { recursive: true });
  await writeFile(
    path.join(small, 'recipe.json'),
    JSON.stringify({
      id: 'small-weights',
      name: 'Small weights',
      version: '1.0.0',
      kind: 'tool',
      weights: [{ id: 'w', url: 'http://127.0.0.1:9/w.bin', file: 'w.bin', size: 470_000, sha256: 'a'.repeat(64) }],
      install: [{ kind: 'env', type: 'none' }, { kind: 'fetch' }],
    }),
  );
  const text = (await runCli(['plan', small], { home })).stdout;
  assert.match(text, /459\.0 KiB/);
  assert.doesNotMatch(text, /0\.0 GiB/);
  assert.doesNotMatch(text, /none environment/);
  assert.match(text, /no environment: steps use the tools already on this machine/);
});

test('fit takes a recipe.json path like an id', async () => {
  const dir = path.join(root, 'plan-app');
  const byPath = await runCli(['fit', path.join(dir, 'recipe.json')], { home });
  assert.equal(byPath.code, 2, byPath.stderr);
  assert.match(byPath.stderr, /has no LLM service with a GGUF (or MLX )?model to check/);
  assert.doesNotMatch(byPath.stderr, /not a GGUF|magic/i);
});

test('doctor: one short list of machine problems; per-recipe advice fits the platform and the recipe', async () => {
  const result = await runCli(['doctor', '--json'], { home });
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as {
    machine: { os: string };
    problems: { problem: string; fix: string }[];
    recipes: { id: string; ok: boolean; problems: string[]; fixes: string[] }[];
  };
  const ids = new Set(report.recipes.map((r) => r.id));
  assert.ok(report.problems.length <= 3, `problems repeat the table: ${JSON.stringify(report.problems)}`);
  for (const p of report.problems)
    assert.ok(![...ids].some((id) => p.problem.startsWith(`${id}:`)), `a recipe row in the problem list: ${p.problem}`);
  const all = JSON.stringify([report.problems, report.recipes.map((r) => r.fixes)]);
  if (report.machine.os !== 'darwin') assert.doesNotMatch(all, /iogpu/, 'Mac-only advice on another platform');
  const recipesDir = path.join(repoRoot, 'recipes');
  const { readFile } = await import('node:fs/promises');
  for (const r of report.recipes.filter((x) => !x.ok)) {
    assert.ok(r.fixes.length > 0, `${r.id} has reasons but no advice`);
    const recipe = JSON.parse(await readFile(path.join(recipesDir, r.id, 'recipe.json'), 'utf8').catch(() => '{}')) as {
      inputs?: Record<string, unknown>;
    };
    const hasQuant = Object.keys(recipe.inputs ?? {}).some((k) => /quant/i.test(k));
    if (!hasQuant) assert.doesNotMatch(r.fixes.join(' '), /quantis|quantiz/i, `${r.id} has no quantisation input`);
  }
});

test('recipe validate lists every problem at once — schema, template and path — each with its hint', async () => {
  const dir = path.join(root, 'bad-recipe');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'recipe.json');
  await writeFile(
    file,
    JSON.stringify({
      id: 'bad-app',
      name: 'Bad',
      version: '1.0.0',
      kind: 'chatbot',
      install: [
        { kind: 'write', path: '../outside.txt', content: '{{inputs.nope}}' },
        { kind: 'link', weight: 'missing' },
      ],
    }),
  );
  const result = await runCli(['recipe', 'validate', file, '--json'], { home });
  assert.equal(result.code, 1);
  const { errors } = JSON.parse(result.stdout) as { errors: { pointer: string; message: string; hint?: string }[] };
  assert.deepEqual(
    errors.map((e) => e.pointer),
    ['/kind', '/install/0/path', '/install/0/content', '/install/1/weight'],
  );
  for (const e of errors) assert.ok(e.hint && e.hint.length > 0, `no hint for ${e.pointer}: ${e.message}`);
  const text = await runCli(['recipe', 'validate', file], { home });
  assert.match(text.stderr, /4 problems in /);
});
