import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parseJson, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/paths.js';

let scratch: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  scratch = await tempDir('orchard cluster recipe ');
});
after(() => scratch.cleanup());

interface PlannedService {
  type: string;
  args: string[];
}

test('a cluster-capable LLM recipe runs alone by default and over the named hosts with `hosts`', async () => {
  const home = path.join(scratch.dir, 'home');
  const alone = await runCli(['plan', 'llama-3-1-405b-instruct', '--profile', 'darwin-arm64-metal', '--json'], { home });
  assert.equal(alone.code, 0, alone.stderr);
  assert.equal(parseJson<{ service: PlannedService }>(alone).service.type, 'llm');

  const spread = await runCli(
    ['plan', 'llama-3-1-405b-instruct', '--profile', 'darwin-arm64-metal', '--input', 'hosts=studio-2,studio-3', '--json'],
    { home },
  );
  assert.equal(spread.code, 0, spread.stderr);
  const service = parseJson<{ service: PlannedService }>(spread).service;
  assert.equal(service.type, 'llm-cluster');
  assert.deepEqual(service.args.slice(-2), ['--hosts', 'studio-2,studio-3']);
  assert.ok(service.args.includes('--model'), 'the same model and context arguments as alone');

  const text = await runCli(['plan', 'llama-3-1-405b-instruct', '--profile', 'darwin-arm64-metal', '--input', 'hosts=studio-2'], { home });
  assert.match(text.stdout, /orchard service llm-cluster .*--hosts studio-2/);
  assert.match(text.stdout, /orchard cluster plan/);

  const bad = await runCli(['plan', 'llama-3-1-405b-instruct', '--input', 'hosts=a b;rm -rf /'], { home });
  assert.equal(bad.code, 2, 'an input that breaks its pattern is a usage error');
  assert.match(bad.stderr, /input "hosts" must match/);
});

test('`cluster` is refused on a service that is not an LLM, and without a "hosts" input, with pointers', async () => {
  const dir = path.join(scratch.dir, 'bad-cluster');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'recipe.json');
  await writeFile(
    file,
    JSON.stringify({
      id: 'bad-cluster',
      name: 'Bad cluster',
      version: '1.0.0',
      kind: 'tool',
      install: [],
      service: { type: 'command', cluster: true, command: ['node', '-e', '0'], readiness: { http: '/health' } },
    }),
  );
  const r = await runCli(['recipe', 'validate', file], { home: path.join(scratch.dir, 'home') });
  assert.equal(r.code, 1);
  assert.match(r.stdout + r.stderr, /\/service\/cluster/);
  assert.match(r.stdout + r.stderr, /only for services of type "llm"/);
});
