import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { Verdict } from '../../engine/diagnose/verdict.js';
import { verifyStep } from '../../engine/steps/verify.js';
import { verifyContext, verifyStepOf } from '../diagnose/verify-context.js';
import { tempDir } from '../helpers/paths.js';
import { writeTinyGguf } from '../helpers/tiny-gguf.js';

const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/tmp' };

test('the llm probe loads a quantization folder (models/<quant>, as the recipes name it): its one model, or part 1 of a split', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const folder = path.join(dir, 'models', 'Q4_K_M');
    await mkdir(folder, { recursive: true });
    await writeTinyGguf(path.join(folder, 'tiny model.gguf'), { mode: 'successor' });
    const { ctx, lines } = verifyContext(dir, env, true);
    const outcome = await verifyStep(verifyStepOf({ probe: { type: 'llm', model: folder }, expect: 'metal' }), ctx);
    const verdict = outcome.outputs?.['verdict'] as unknown as Verdict;
    // The model loaded (layer counts read from it), so the verdict is the CPU one, not "could not load".
    assert.deepEqual([verdict.backend, verdict.fallback], ['cpu', 'full'], lines.join('\n'));
    assert.match(verdict.evidence.join('\n'), /model\.gpuLayers = 0 of model\.fileInsights\.totalLayers = 3/);

    // A folder with no model is reported by the probe, not thrown past it.
    const empty = path.join(dir, 'models', 'Q8_0');
    await mkdir(empty, { recursive: true });
    const failed = await verifyStep(verifyStepOf({ probe: { type: 'llm', model: empty }, expect: 'cpu' }, 30_000), ctx);
    const failedVerdict = failed.outputs?.['verdict'] as unknown as Verdict | undefined;
    assert.equal(failedVerdict?.backend, 'unknown');
  } finally {
    await cleanup();
  }
});
