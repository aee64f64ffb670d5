import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import OpenAI from 'openai';
import { probeMlx } from '../../engine/diagnose/probes/mlx.js';
import { allocatePort } from '../../engine/core/port.js';
import { cliEntry } from '../helpers/paths.js';

/**
 * The real MLX, when this machine has it (a Mac with `pip install mlx mlx-lm`):
 *   ORCHARD_MLX_PYTHON=/path/venv/bin/python  (default: python3)
 *   ORCHARD_MLX_MODEL=/path/to/mlx-model-folder-or-repo  (for the service test; e.g. mlx-community/Qwen2.5-0.5B-Instruct-4bit)
 * Skipped with the reason everywhere else (Linux CI has no mlx and no Apple GPU).
 */
const python = process.env['ORCHARD_MLX_PYTHON'] ?? 'python3';
const missing = ((): string | undefined => {
  try {
    execFileSync(python, ['-c', 'import mlx.core, mlx_lm'], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    const text = String((err as { stderr?: Buffer }).stderr ?? (err as Error).message)
      .trim()
      .split('\n')
      .at(-1);
    return `mlx_lm is not importable by ${python} (${text ?? 'failed'}); set ORCHARD_MLX_PYTHON on a Mac with mlx-lm`;
  }
})();
const model = process.env['ORCHARD_MLX_MODEL'];

test('real MLX: the probe proves Metal', { skip: missing }, async () => {
  const v = await probeMlx('metal', {
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' },
    timeoutMs: 120_000,
    python,
  });
  assert.equal(v.backend, 'metal', JSON.stringify(v));
  assert.equal(v.fallback, 'none');
  assert.ok(
    v.evidence.some((e) => /matmul: [\d.]+ ms on gpu/.test(e)),
    JSON.stringify(v.evidence),
  );
});

test('real mlx_lm.server behind orchard service mlx: chat through the openai client', {
  skip: missing ?? (model ? undefined : 'ORCHARD_MLX_MODEL is not set (an MLX model folder or repo id)'),
}, async () => {
  const port = await allocatePort();
  const child = spawn(
    process.execPath,
    [cliEntry, 'service', 'mlx', '--python', python, '--model', model ?? '', '--port', String(port), '--max-tokens', '32'],
    { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  try {
    const deadline = Date.now() + 600_000;
    while (!/orchard mlx ready/.test(out)) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`not ready:\n${out}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'unused', maxRetries: 0 });
    const id = (await client.models.list()).data[0]?.id ?? '';
    const reply = await client.chat.completions.create({ model: id, messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 16 });
    assert.ok((reply.choices[0]?.message.content ?? '').length > 0);
    const metrics = (await (await fetch(`http://127.0.0.1:${port}/metrics`)).json()) as { tokensPerSecond: { last: number } };
    assert.ok(metrics.tokensPerSecond.last > 0);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  assert.ok(existsSync(cliEntry));
});
