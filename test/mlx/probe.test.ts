import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { mlxVerdict, parseDeviceInfo, probeMlx, type MlxProbeReport } from '../../engine/diagnose/probes/mlx.js';
import { fixturesDir } from '../helpers/paths.js';

// The MLX probe's verdicts on real MLX answers (test/fixtures/mlx/probe, sources in SOURCES.md).
const captured = (name: string): MlxProbeReport =>
  JSON.parse(readFileSync(path.join(fixturesDir, 'mlx', 'probe', `${name}.json`), 'utf8')) as MlxProbeReport;

test('Device(gpu, 0) with Metal available (mlx-lm#1813, mlx#1060): metal, no fallback, device info in the evidence', () => {
  const v = mlxVerdict(captured('metal'), 'metal');
  assert.equal(v.backend, 'metal');
  assert.equal(v.fallback, 'none');
  assert.ok(v.evidence.includes('mx.default_device() = Device(gpu, 0)'));
  assert.ok(v.evidence.includes('mx.metal.is_available() = True'));
  assert.ok(v.evidence.some((e) => e.includes("'architecture': 'applegpu_g14d'")));
  assert.deepEqual(parseDeviceInfo(captured('metal').device_info ?? ''), {
    architecture: 'applegpu_g14d',
    maxRecommendedWorkingSetSize: 188743680000,
    maxBufferLength: 115964116992,
  });
});

test('Metal available but the default device is the CPU (mlx-lm#1813): a red full fallback with the fix', () => {
  const v = mlxVerdict(captured('cpu-default'), 'metal');
  assert.equal(v.backend, 'cpu');
  assert.equal(v.fallback, 'full');
  assert.ok(v.evidence.includes('mx.default_device() = Device(cpu, 0)'));
  assert.match(v.advice.join(' '), /set_default_device/);
});

test('an MLX without a Metal backend (mlx-examples#1306, Ubuntu): a red full fallback', () => {
  const v = mlxVerdict(captured('no-metal'), 'metal');
  assert.equal(v.backend, 'cpu');
  assert.equal(v.fallback, 'full');
  assert.ok(v.evidence.some((e) => e.includes('Cannot get device info without metal backend')));
  assert.match(v.advice.join(' '), /no Metal backend/);
});

test('matmul timings, when printed, are evidence; a failing GPU matmul is a fallback', () => {
  const v = mlxVerdict({ ...captured('metal'), gpu_matmul_ms: 2, cpu_matmul_ms: 40 }, 'metal');
  assert.ok(v.evidence.includes('1024×1024 matmul: 2 ms on gpu, 40 ms on cpu (gpu 20.0× faster)'));
  const broken = mlxVerdict({ ...captured('metal'), gpu_matmul_error: 'RuntimeError: x' }, 'metal');
  assert.equal(broken.fallback, 'full');
});

test("the probe script itself, run by this machine's python3 (no mlx here): mlx missing is unknown and a full fallback", async (t) => {
  try {
    execFileSync('python3', ['-c', 'pass']);
  } catch {
    t.skip('no python3 on this machine');
    return;
  }
  const v = await probeMlx('metal', { env: { PATH: process.env['PATH'] ?? '' }, timeoutMs: 30_000, python: 'python3' });
  if (v.backend === 'metal') return; // a Mac with mlx in its python3: the real thing answered
  assert.equal(v.backend, 'unknown');
  assert.equal(v.fallback, 'full');
  assert.match(v.evidence[0] ?? '', /^mlx missing: ModuleNotFoundError: No module named 'mlx'/);
});

test('the probe through the stand-in venv python prints the same verdict as the captured answers', async () => {
  const v = await probeMlx('metal', {
    env: { PATH: process.env['PATH'] ?? '', MLX_STANDIN_PROBE: 'cpu-default' },
    timeoutMs: 30_000,
    python: path.join(fixturesDir, 'mlx', 'mlx-python'),
  });
  assert.deepEqual(v, mlxVerdict(captured('cpu-default'), 'metal'));
});
