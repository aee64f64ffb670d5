import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Plan } from '../../engine/recipe/plan-types.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { fixturesDir, tempDir } from '../helpers/paths.js';

const recipe = path.join(fixturesDir, 'recipes', 'valid', 'platform-demo', 'recipe.json');
let home: string;
let cleanup: () => Promise<void>;
before(async () => {
  const t = await tempDir('orchard plan home ');
  home = path.join(t.dir, 'Orchard Home');
  cleanup = t.cleanup;
});
after(() => cleanup());

async function plan(profile: string, ...extra: string[]): Promise<Plan> {
  const result = await runCli(['plan', recipe, '--profile', profile, '--json', ...extra], { home });
  assert.equal(result.code, 0, result.stderr);
  return parseJson<Plan>(result);
}

test('darwin-arm64-metal and linux-x64-cuda give different, correct plans', async () => {
  const mac = await plan('darwin-arm64-metal');
  const cuda = await plan('linux-x64-cuda');

  assert.deepEqual(
    mac.scripts.install.map((s) => s.key),
    ['git-0', 'env-1', 'torch-mac', 'write-4', 'verify-5'],
  );
  assert.deepEqual(
    cuda.scripts.install.map((s) => s.key),
    ['git-0', 'env-1', 'torch-cuda', 'write-4', 'verify-5'],
  );
  assert.equal(mac.expectedBackend, 'metal');
  assert.equal(cuda.expectedBackend, 'cuda');

  const torchCuda = cuda.scripts.install.find((s) => s.key === 'torch-cuda');
  assert.ok(torchCuda?.kind === 'run');
  assert.deepEqual(torchCuda.params.argv?.slice(-2), ['--index-url', 'https://download.pytorch.org/whl/cu124']);
  assert.equal(torchCuda.params.argv?.[0], path.join(home, 'apps', 'platform-demo', 'env', 'bin', 'python'));
  assert.ok(cuda.hosts.includes('download.pytorch.org') && !mac.hosts.includes('download.pytorch.org'));
  assert.ok(mac.hosts.includes('files.pythonhosted.org'));

  const write = (p: Plan) => p.scripts.install.find((s) => s.kind === 'write');
  assert.ok(write(mac)?.kind === 'write' && JSON.parse(write(mac)!.params.content as string).device === 'metal');
  assert.equal(mac.confinement.mechanism, 'sandbox-exec');
  assert.deepEqual(mac.blockers, []);
  assert.deepEqual(cuda.blockers, []);
  // The same step resolves to the same hash on both; the platform-specific one differs.
  assert.equal(mac.scripts.install[0]?.hash, cuda.scripts.install[0]?.hash);
});

test('a GPU-only recipe is refused on linux-x64-cpu with a clear reason', async () => {
  const cpu = await plan('linux-x64-cpu');
  assert.equal(cpu.blockers.length, 1);
  assert.match(cpu.blockers[0] ?? '', /needs a GPU \(metal or cuda\)/);
  const human = await runCli(['plan', recipe, '--profile', 'linux-x64-cpu'], { home });
  assert.match(human.stdout, /BLOCKED: .*needs a GPU/);
});

test('inputs change the plan; a bad input value is refused', async () => {
  const large = await plan('linux-x64-cuda', '--input', 'variant=large');
  const write = large.scripts.install.find((s) => s.kind === 'write');
  assert.ok(write?.kind === 'write');
  assert.equal(JSON.parse(write.params.content).variant, 'large');
  const bad = await runCli(['plan', recipe, '--profile', 'linux-x64-cuda', '--input', 'variant=huge'], { home });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /input "variant" "huge" is not one of: small, large/);
});

test('the human plan shows commands, hosts and red flags, and plan writes nothing', async () => {
  const human = await runCli(['plan', recipe, '--profile', 'linux-x64-cuda'], { home });
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /\$ '.*python' -m pip install torch==2\.5\.1 --index-url https:\/\/download\.pytorch\.org\/whl\/cu124/);
  assert.match(human.stdout, /Network hosts contacted:\n\s+git\.example\.invalid/);
  assert.match(human.stdout, /expected backend: cuda/);
  await assert.rejects(readdir(home), { code: 'ENOENT' });
});

test('opting in to the MPS CPU fallback, in a step or in the service, is flagged in the plan', async () => {
  const { mkdir, readFile, writeFile } = await import('node:fs/promises');
  const value = JSON.parse(await readFile(recipe, 'utf8')) as {
    install: { kind: string; env?: Record<string, string> }[];
    service: { env?: Record<string, string> };
  };
  value.install.find((s) => s.kind === 'run')!.env = { PYTORCH_ENABLE_MPS_FALLBACK: '1' };
  value.service.env = { TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD: '1' };
  const dir = path.join(home, '..', 'opt-in recipe');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'recipe.json'), JSON.stringify(value));
  const result = await runCli(['plan', dir, '--profile', 'darwin-arm64-metal', '--json'], { home });
  const warnings = parseJson<Plan>(result).warnings;
  assert.ok(
    warnings.some((w) => w.includes('install/torch-mac: opt-in: sets PYTORCH_ENABLE_MPS_FALLBACK=1')),
    warnings.join('\n'),
  );
  assert.ok(
    warnings.some((w) => w.includes('service: opt-in: sets TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1')),
    warnings.join('\n'),
  );
});
