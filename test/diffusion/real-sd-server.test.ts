import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { tempDir } from '../helpers/paths.js';
import { startService, submit, waitHealthy, waitJob } from './service-helpers.js';

/**
 * Runs only on a machine with a real sd-server (built by the engine recipe) and Flux weights:
 *   ORCHARD_SD_SERVER=/path/sd-server ORCHARD_SD_DIFFUSION_MODEL=flux1-schnell-q4_k.gguf
 *   ORCHARD_SD_VAE=ae.safetensors ORCHARD_SD_CLIP_L=clip_l.safetensors ORCHARD_SD_T5XXL=t5xxl.gguf
 *   [ORCHARD_SD_BACKEND=metal|cuda0|vulkan0|cpu]
 */
const env = process.env;
const sdServer = env.ORCHARD_SD_SERVER;
const model = env.ORCHARD_SD_DIFFUSION_MODEL;
const skip = !sdServer
  ? 'ORCHARD_SD_SERVER is not set (no real sd-server on this machine)'
  : !existsSync(sdServer)
    ? `ORCHARD_SD_SERVER=${sdServer} does not exist`
    : !model
      ? 'ORCHARD_SD_DIFFUSION_MODEL is not set'
      : undefined;

let dir = '';
let cleanup: () => Promise<void> = async () => {};
before(async () => ({ dir, cleanup } = await tempDir('orchard real sd ')));
after(() => cleanup());

test('real sd-server: preflight, load, one 4-step image with step progress and a PNG', {
  skip: skip ?? false,
  timeout: 30 * 60_000,
}, async () => {
  const args = [
    '--backend',
    env.ORCHARD_SD_BACKEND ?? (process.platform === 'darwin' ? 'metal' : 'cuda0'),
    '--sd-server',
    String(sdServer),
    '--diffusion-model',
    String(model),
  ];
  if (env.ORCHARD_SD_VAE) args.push('--vae', env.ORCHARD_SD_VAE);
  if (env.ORCHARD_SD_CLIP_L) args.push('--clip_l', env.ORCHARD_SD_CLIP_L);
  if (env.ORCHARD_SD_T5XXL) args.push('--t5xxl', env.ORCHARD_SD_T5XXL);
  // startService passes the stand-in as --sd-server first; commander takes the last value given.
  const service = await startService(dir, 'image', { PATH: env.PATH ?? '' }, args);
  try {
    const health = await waitHealthy(service);
    assert.equal((health.verdict as { fallback: string }).fallback, 'none', JSON.stringify(health.verdict));
    const { json: job } = await submit(service, {
      prompt: "a lovely cat holding a sign says 'orchard'",
      steps: 4,
      width: 512,
      height: 512,
    });
    const done = await waitJob(service, String(job.id), ['completed', 'failed']);
    assert.equal(done.state, 'completed', JSON.stringify(done.error));
    assert.equal((done.progress as { step: number; steps: number }).step, 4);
    const png = Buffer.from(await (await fetch(service.url(`/v1/jobs/${String(job.id)}/result`))).arrayBuffer());
    assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
    console.log(`real sd-server: ${JSON.stringify(done.progress)} verdict ${JSON.stringify(health.verdict)}`);
  } finally {
    await service.stop();
  }
});
