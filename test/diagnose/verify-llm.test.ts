import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { isOrchardError } from '../../engine/core/errors.js';
import type { Verdict } from '../../engine/diagnose/verdict.js';
import { verifyStep } from '../../engine/steps/verify.js';
import { tempDir } from '../helpers/paths.js';
import { writeTinyGguf } from '../helpers/tiny-gguf.js';
import { verifyContext, verifyStepOf } from './verify-context.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
let model: string;
const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/tmp' };

before(async () => {
  tmp = await tempDir();
  model = path.join(tmp.dir, 'tiny model.gguf');
  await writeTinyGguf(model, { mode: 'successor' });
});
after(() => tmp.cleanup());

test('llm probe on this CPU machine: a recipe expecting metal ends red with llama.gpu as evidence', async () => {
  const { ctx } = verifyContext(tmp.dir, env);
  await assert.rejects(verifyStep(verifyStepOf({ probe: { type: 'llm', model }, expect: 'metal' }), ctx), (err: unknown) => {
    assert.ok(isOrchardError(err));
    assert.equal(err.code, 'BACKEND');
    assert.match(err.message, /expected the metal backend, but the work runs on the CPU: llama\.gpu = false/);
    assert.match(err.hint ?? '', /Metal prebuilt/);
    return true;
  });
});

test('llm probe with --allow-cpu: the install step passes and records the red verdict with layer counts', async () => {
  const { ctx } = verifyContext(tmp.dir, env, true);
  const outcome = await verifyStep(verifyStepOf({ probe: { type: 'llm', model }, expect: 'metal' }), ctx);
  const verdict = outcome.outputs?.['verdict'] as unknown as Verdict;
  assert.deepEqual([verdict.backend, verdict.fallback], ['cpu', 'full']);
  assert.match(verdict.evidence.join('\n'), /model\.gpuLayers = 0 of model\.fileInsights\.totalLayers = 3/);
  assert.equal(outcome.outputs?.['allowCpu'], true);
});

test('llm probe of a file that is not a model fails cleanly inside its time limit', async () => {
  const { ctx } = verifyContext(tmp.dir, env, true);
  const outcome = await verifyStep(
    verifyStepOf({ probe: { type: 'llm', model: path.join(tmp.dir, 'missing.gguf') }, expect: 'cpu' }, 30_000),
    ctx,
  );
  const verdict = outcome.outputs?.['verdict'] as unknown as Verdict;
  assert.equal(verdict.backend, 'unknown');
  assert.match(verdict.evidence[0] ?? '', /failed|timed out/);
});
