import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { MachineInfo } from '../../engine/hardware/machine-info.js';
import {
  applyLoraEvent,
  estimateLoraMemory,
  parseLoraLine,
  readLoraProgress,
  runLora,
  type LoraProgress,
  type LoraRunOptions,
} from '../../engine/install/lora.js';
import { readMlxModelShape } from '../../engine/fit/mlx-fit.js';
import { listAdapters } from '../../engine/services/mlx/adapters.js';
import { fixturesDir, tempDir } from '../helpers/paths.js';
import { tinyMlxModel } from '../helpers/tiny-mlx.js';

const GiB = 1024 ** 3;
const mlxPython = path.join(fixturesDir, 'mlx', 'mlx-python');
let dir: string;
let cleanup: () => Promise<void>;
let model: string;
let data: string;

const mac = (ramGiB: number): MachineInfo => ({
  os: 'darwin',
  arch: 'arm64',
  cpu: { brand: 'Apple M3 Ultra', cores: 28 },
  memory: { totalBytes: ramGiB * GiB },
  unifiedMemory: true,
  gpus: [{ name: 'Apple M3 Ultra', vendor: 'apple', backends: ['metal'] }],
  accelerators: ['metal', 'cpu'],
  macos: { gpuWorkingSetBytes: ramGiB * 0.75 * GiB },
  sources: [],
});

before(async () => {
  const t = await tempDir('orchard mlx lora ');
  dir = t.dir;
  cleanup = t.cleanup;
  model = path.join(dir, 'app', 'model');
  await mkdir(model, { recursive: true });
  for (const [name, body] of Object.entries(
    tinyMlxModel({ layers: 2, hidden: 128, heads: 2, kvHeads: 1, intermediate: 256, vocab: 512, bits: 4, groupSize: 64, shards: 1 }).files,
  ))
    await writeFile(path.join(model, name), body);
  data = path.join(dir, 'my data');
  await mkdir(data);
  await writeFile(
    path.join(data, 'train.jsonl'),
    '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}\n'.repeat(8),
  );
  await writeFile(
    path.join(data, 'valid.jsonl'),
    '{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}\n',
  );
});
after(async () => cleanup());

test("parses the trainer's real lines (mlx-lm#330, mlx-examples#812) into iteration, losses, tokens/s and peak memory", () => {
  const lines = readFileSync(path.join(fixturesDir, 'mlx', 'logs', 'lora-train.log'), 'utf8')
    .split('\n')
    .filter(Boolean);
  const events = lines.map(parseLoraLine);
  assert.deepEqual(events[3], { type: 'trainable', percent: 0.041, trainableM: 1.311, totalM: 3212.75 });
  assert.deepEqual(events[4], { type: 'start', iters: 100 });
  assert.deepEqual(events[5], { type: 'val', iteration: 1, valLoss: 2.936, seconds: 5.265 });
  assert.deepEqual(events[6], {
    type: 'train',
    iteration: 10,
    trainLoss: 2.662,
    learningRate: 1e-5,
    itPerSec: 0.49,
    tokensPerSec: 161.374,
    trainedTokens: 3290,
    peakMemGB: 9.707,
  });
  assert.deepEqual(events[14], {
    type: 'saved',
    iteration: 400,
    adapterFile: 'adapters/adapters.safetensors',
    checkpoint: 'adapters/0000400_adapters.safetensors',
  });
  assert.equal(events.filter((e) => e?.type === 'train').length, 11);
  assert.equal(events.filter((e) => e === undefined).length, 3, 'only the three phase lines carry no progress');
  // The older trainer format (mlx-examples#210, no learning rate / peak memory) is not taken for the current one.
  assert.equal(parseLoraLine('Iter 10: Train loss 3.608, It/sec 0.015, Tokens/sec 1.425'), undefined);
  assert.deepEqual(parseLoraLine('Saved final weights to adapters/adapters.safetensors.'), {
    type: 'final',
    adapterFile: 'adapters/adapters.safetensors',
  });
});

test("progress: a resumed run's iterations continue after the saved one", () => {
  const p: LoraProgress = {
    name: 'a',
    model: 'm',
    data: 'd',
    state: 'running',
    totalIters: 440,
    savedIteration: 400,
    offset: 400,
    points: [],
    checkpoints: [],
    runs: [],
    updated: '',
  };
  applyLoraEvent(p, { type: 'val', iteration: 1, valLoss: 2, seconds: 1 });
  applyLoraEvent(p, {
    type: 'train',
    iteration: 10,
    trainLoss: 1,
    learningRate: 1e-5,
    itPerSec: 1,
    tokensPerSec: 100,
    trainedTokens: 10,
    peakMemGB: 5,
  });
  assert.deepEqual(
    p.points.map((x) => x.iteration),
    [401, 410],
  );
});

const options = (over: Partial<LoraRunOptions>): LoraRunOptions => ({
  python: mlxPython,
  model,
  data,
  adapterDir: path.join(dir, 'adapters', 'notes'),
  appRoot: dir,
  sandboxEnv: { HOME: dir },
  iters: 440,
  batchSize: 4,
  numLayers: 16,
  maxSeqLength: 2048,
  saveEvery: 100,
  gradCheckpoint: false,
  resume: false,
  machine: mac(64),
  force: false,
  logFile: path.join(dir, 'logs', 'lora-notes.log'),
  ...over,
});

test('a training that dies is resumed from its last saved adapter; the result is an adapter the MLX service lists', async () => {
  const seen: number[] = [];
  const first = await runLora(options({ env: { MLX_STANDIN_LORA_DIE_AFTER: '10' }, onProgress: (p) => seen.push(p.points.length) }));
  assert.equal(first.state, 'failed');
  assert.equal(first.savedIteration, 400);
  assert.match(first.error ?? '', /(SIGABRT|code 134).*resume continues from iteration 400/, 'an abort (under bwrap it shows as 128 + 6)');
  assert.deepEqual(
    first.points.map((x) => x.iteration),
    [1, 10, 20, 30, 40, 50, 390, 400, 410],
  );
  assert.equal(first.points.find((x) => x.iteration === 400)?.valLoss, 0.107);
  assert.equal(first.points.find((x) => x.iteration === 20)?.peakMemGB, 10.588);
  assert.ok(seen.length > 5, 'progress is saved as lines arrive');
  assert.ok(existsSync(path.join(dir, 'adapters', 'notes', '0000400_adapters.safetensors')));
  // A new start without --resume is refused: there is unfinished work.
  await assert.rejects(runLora(options({})), /unfinished training/);

  const second = await runLora(options({ resume: true }));
  assert.equal(second.state, 'done', second.error);
  assert.equal(second.savedIteration, 440);
  assert.deepEqual(
    second.points.map((x) => x.iteration),
    [1, 10, 20, 30, 40, 50, 390, 400, 401, 410, 420, 430, 440],
  );
  assert.equal(second.runs.length, 2);
  assert.equal(second.runs[1]?.resumedFrom, 400);
  const log = readFileSync(path.join(dir, 'logs', 'lora-notes.log'), 'utf8');
  assert.match(log, /--resume-adapter-file .*adapters\.safetensors/);
  assert.match(log, /--iters 40 /);
  assert.match(log, /Loading fine-tuned weights from /);
  assert.deepEqual((await readLoraProgress(path.join(dir, 'adapters', 'notes')))?.state, 'done');
  assert.deepEqual(
    listAdapters(path.join(dir, 'adapters'), 'Tiny-4bit').map((a) => a.id),
    ['Tiny-4bit:notes'],
  );
});

test('the training memory check runs before anything starts, and refuses what cannot fit', async () => {
  const shape = await readMlxModelShape(model);
  const e = estimateLoraMemory(shape, { batchSize: 4, numLayers: 16, rank: 8, sequenceTokens: 2048, gradCheckpoint: false });
  assert.equal(e.total, e.weights + e.adapterAndOptimizer + e.activations + e.logits + e.overhead);
  const lighter = estimateLoraMemory(shape, { batchSize: 4, numLayers: 16, rank: 8, sequenceTokens: 2048, gradCheckpoint: true });
  assert.ok(lighter.activations < e.activations);
  // A 4 GiB machine keeps all of it for the OS (osReserve): nothing is usable for training.
  await assert.rejects(
    runLora(options({ adapterDir: path.join(dir, 'adapters', 'small'), machine: mac(4) })),
    /LoRA training would need about/,
  );
  assert.ok(!existsSync(path.join(dir, 'adapters', 'small', 'adapters.safetensors')), 'nothing ran');
});
