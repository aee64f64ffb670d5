import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { isOrchardError } from '../../engine/core/errors.js';
import type { Verdict } from '../../engine/diagnose/verdict.js';
import { verifyStep } from '../../engine/steps/verify.js';
import { tempDir } from '../helpers/paths.js';
import { verifyContext, verifyStepOf } from './verify-context.js';

// A stand-in `torch` that behaves like a CPU-only wheel: no MPS, no CUDA, matmul on the CPU.
const CPU_ONLY_TORCH = `
__version__ = "2.5.1+cpu"
class _Version: cuda = None
version = _Version()
class _Mps:
    @staticmethod
    def is_built(): return False
    @staticmethod
    def is_available(): return False
class _Backends: mps = _Mps()
backends = _Backends()
class _Cuda:
    @staticmethod
    def is_available(): return False
cuda = _Cuda()
class _Tensor:
    def __init__(self, device): self.device = device
    def __matmul__(self, other): return _Tensor(self.device)
def randn(*shape, device="cpu"): return _Tensor(device)
`;

let tmp: { dir: string; cleanup: () => Promise<void> };
let venv: string;
let env: Record<string, string>;

before(async () => {
  tmp = await tempDir();
  venv = path.join(tmp.dir, 'app env');
  execFileSync('python3', ['-m', 'venv', '--without-pip', venv], { timeout: 60_000 });
  env = { PATH: `${path.join(venv, 'bin')}:${process.env['PATH'] ?? '/usr/bin:/bin'}`, HOME: tmp.dir, VIRTUAL_ENV: venv };
});
after(() => tmp.cleanup());

test('python-torch probe in a real venv without torch: a clear "torch missing" verdict, install ends red', async () => {
  const { ctx, lines } = verifyContext(tmp.dir, env);
  await assert.rejects(verifyStep(verifyStepOf({ probe: { type: 'python-torch' }, expect: 'metal' }), ctx), (err: unknown) => {
    assert.ok(isOrchardError(err));
    assert.equal(err.code, 'BACKEND');
    assert.match(err.message, /expected the metal backend.*torch missing/);
    assert.match(err.hint ?? '', /--allow-cpu/);
    assert.match(err.where ?? '', /verify/);
    return true;
  });
  assert.ok(
    lines.some((l) => /evidence: torch missing: ModuleNotFoundError/.test(l)),
    lines.join('\n'),
  );
});

test(
  'python-torch probe with a CPU-only torch: full fallback when metal or cuda is expected; --allow-cpu passes and keeps the ' +
    'red verdict',
  async () => {
    const sitePackages = execFileSync(
      path.join(venv, 'bin', 'python'),
      ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
      {
        encoding: 'utf8',
      },
    ).trim();
    await mkdir(path.join(sitePackages, 'torch'), { recursive: true });
    await writeFile(path.join(sitePackages, 'torch', '__init__.py'), CPU_ONLY_TORCH);

    for (const expect of ['metal', 'cuda'] as const) {
      const { ctx } = verifyContext(tmp.dir, env);
      await assert.rejects(
        verifyStep(verifyStepOf({ probe: { type: 'python-torch' }, expect }), ctx),
        /expected the .* backend, but the work runs on the CPU: torch 2\.5\.1\+cpu/,
      );
    }

    const { ctx } = verifyContext(tmp.dir, env, true);
    const outcome = await verifyStep(verifyStepOf({ probe: { type: 'python-torch' }, expect: 'cuda' }), ctx);
    const verdict = outcome.outputs?.['verdict'] as unknown as Verdict;
    assert.equal(verdict.backend, 'cpu');
    assert.equal(verdict.fallback, 'full');
    assert.ok(verdict.evidence.includes('torch.cuda.is_available() = False'), verdict.evidence.join('\n'));
    assert.match(verdict.advice.join(' '), /CPU-only build/);
    assert.equal(outcome.outputs?.['allowCpu'], true);

    // CPU expected: the same environment passes without --allow-cpu and is not a fallback.
    const cpu = await verifyStep(verifyStepOf({ probe: { type: 'python-torch' }, expect: 'cpu' }), verifyContext(tmp.dir, env).ctx);
    const cpuVerdict = cpu.outputs?.['verdict'] as unknown as Verdict;
    assert.deepEqual([cpuVerdict.backend, cpuVerdict.fallback], ['cpu', 'none']);
  },
);
