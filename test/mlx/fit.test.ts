import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { resolveHome } from '../../engine/core/home.js';
import { fitMlxOnMachine, predictMlxMemory, readMlxModelShape, shapeFromConfig, type MlxModelShape } from '../../engine/fit/mlx-fit.js';
import { fitTarget } from '../../engine/fit/fit-target.js';
import { readSafetensorsHeader } from '../../engine/fit/safetensors.js';
import { openByteSource } from '../../engine/fit/byte-source.js';
import type { SafetensorsHeader } from '../../engine/fit/safetensors.js';
import type { MachineInfo } from '../../engine/hardware/machine-info.js';
import { resolveProfile } from '../../engine/recipe/resolve-profile.js';
import { startRangeServer, type RangeServer } from '../helpers/range-server.js';
import { tempDir } from '../helpers/paths.js';
import { tinyMlxModel, type TinyMlxModel } from '../helpers/tiny-mlx.js';
import { writeTinyGguf } from '../helpers/tiny-gguf.js';
import { runCli } from '../helpers/cli.js';

const GiB = 1024 ** 3;
let server: RangeServer;
let sharded: TinyMlxModel;
let single: TinyMlxModel;
let dir: string;
let cleanup: () => Promise<void>;

function mac(ramGiB: number, workingSetGiB: number, wiredLimitMb?: number): MachineInfo {
  return {
    os: 'darwin',
    arch: 'arm64',
    cpu: { brand: 'Apple M3 Ultra', cores: 28 },
    memory: { totalBytes: ramGiB * GiB },
    unifiedMemory: true,
    gpus: [{ name: 'Apple M3 Ultra', vendor: 'apple', backends: ['metal'] }],
    accelerators: ['metal', 'cpu'],
    macos: { gpuWorkingSetBytes: workingSetGiB * GiB, ...(wiredLimitMb ? { wiredLimitMb } : {}) },
    sources: [],
  };
}
const linuxCuda: MachineInfo = {
  os: 'linux',
  arch: 'x64',
  cpu: { brand: 'x', cores: 16 },
  memory: { totalBytes: 512 * GiB },
  unifiedMemory: false,
  gpus: [{ name: 'NVIDIA H100', vendor: 'nvidia', vramBytes: 80 * GiB, backends: ['cuda'] }],
  accelerators: ['cuda', 'cpu'],
  sources: [],
};

before(async () => {
  const t = await tempDir('orchard mlx fit ');
  dir = t.dir;
  cleanup = t.cleanup;
  sharded = tinyMlxModel({
    layers: 3,
    hidden: 256,
    heads: 4,
    kvHeads: 2,
    intermediate: 512,
    vocab: 1024,
    bits: 4,
    groupSize: 64,
    shards: 3,
  });
  single = tinyMlxModel({ layers: 1, hidden: 128, heads: 2, kvHeads: 1, intermediate: 256, vocab: 512, bits: 8, groupSize: 32, shards: 1 });
  const gguf = path.join(dir, 'tiny.gguf');
  await writeTinyGguf(gguf, { mode: 'successor', ctx: 512 });
  const files: Record<string, Buffer> = { 'tiny.gguf': await readFile(gguf) };
  for (const [name, body] of Object.entries(sharded.files)) files[`sharded/${name}`] = body;
  for (const [name, body] of Object.entries(single.files)) files[`single/${name}`] = body;
  server = await startRangeServer(files);
});
after(async () => {
  await server.close();
  await cleanup();
});

const base = (name: string): string => server.url(name).replace(/%2F/g, '/');

test(
  'sharded MLX model over HTTP Range: weights byte-exact against the headers, parameters from packed 4-bit, only headers ' + 'read',
  async () => {
    server.requests.length = 0;
    const before = server.bytesServed;
    const shape = await readMlxModelShape(base('sharded'));
    assert.deepEqual(shape.shards, [
      'model-00001-of-00003.safetensors',
      'model-00002-of-00003.safetensors',
      'model-00003-of-00003.safetensors',
    ]);
    assert.equal(shape.weightsBytes, sharded.expected.dataBytes, 'the sum of every tensor in every shard');
    // Independently: file size minus its header, shard by shard.
    let fromFiles = 0;
    for (const shard of shape.shards) {
      const body = sharded.files[shard]!;
      fromFiles += body.length - 8 - Number(body.readBigUInt64LE(0));
    }
    assert.equal(shape.weightsBytes, fromFiles);
    assert.equal(shape.parameters, sharded.expected.parameters);
    assert.equal(shape.bits, 4);
    assert.ok(shape.bytesByDtype['U32']! > 0 && shape.bytesByDtype['BF16']! > 0, 'packed weights plus bf16 scales/biases/norms');
    assert.equal(shape.kvElementsPerToken, 2 * 2 * 64);
    const served = server.bytesServed - before;
    assert.ok(served < sharded.expected.headerBytes + 3 * 8 * 1024 * 1024, 'no more than headers and the small JSON files');
    assert.ok(served < sharded.expected.totalBytes / 4, `read ${served} of ${sharded.expected.totalBytes} bytes`);
    for (const r of server.requests.filter((x) => x.includes('.safetensors'))) assert.match(r, /bytes=\d+-\d+$/, `a Range request: ${r}`);
    // Each shard's header parsed on its own agrees with the generator.
    const h = await readSafetensorsHeader(openByteSource(`${base('sharded')}/model-00002-of-00003.safetensors`));
    assert.ok(h.tensors.every((x) => x.bytes === x.shape.reduce((a, b) => a * b, 1) * (x.dtype === 'U32' ? 4 : 2)));
  },
);

test('single-file model (no index): found by the index 404, 8-bit', async () => {
  const shape = await readMlxModelShape(base('single'));
  assert.deepEqual(shape.shards, ['model.safetensors']);
  assert.equal(shape.weightsBytes, single.expected.dataBytes);
  assert.equal(shape.parameters, single.expected.parameters);
});

test('prediction: KV cache per context from layers, KV heads and head dim, in 256-token steps', async () => {
  const shape = await readMlxModelShape(base('sharded'));
  const p = predictMlxMemory(shape, 1000);
  assert.equal(p.kv, 3 * 1024 * (2 * 2 * 64) * 2, 'layers × 1024 cells × (k+v) × bf16');
  assert.equal(p.weights, sharded.expected.dataBytes);
  assert.equal(p.total, p.weights + p.kv + p.compute + p.overhead);
  assert.equal(predictMlxMemory(shape, 1024).kv, p.kv);
  assert.ok(predictMlxMemory(shape, 1025).kv > p.kv);
});

/** A header standing for a whole quantized model: P parameters at 4 bits, group 64, bf16 scales and biases (4.5 bits/weight). */
function bigShape(config: Record<string, unknown>, parameters: number): MlxModelShape {
  const header: SafetensorsHeader = {
    where: 'synthetic',
    headerBytes: 0,
    metadata: {},
    dataBytes: 0,
    tensors: [
      { name: 'all.weight', dtype: 'U32', shape: [parameters / 8], bytes: parameters / 2 },
      { name: 'all.scales', dtype: 'BF16', shape: [parameters / 64], bytes: parameters / 32 },
      { name: 'all.biases', dtype: 'BF16', shape: [parameters / 64], bytes: parameters / 32 },
    ],
  };
  return {
    ...shapeFromConfig(
      { ...config, quantization: { group_size: 64, bits: 4 }, torch_dtype: 'bfloat16' },
      [header],
      'https://huggingface.co/mlx-community/x/resolve/main/config.json',
    ),
    shards: ['a'],
    bytesRead: 0,
  };
}
// Llama 3.1 405B (config.json of meta-llama/Llama-3.1-405B-Instruct) and DeepSeek-V3 (deepseek-ai/DeepSeek-V3).
const llama405 = bigShape(
  {
    model_type: 'llama',
    hidden_size: 16384,
    intermediate_size: 53248,
    num_attention_heads: 128,
    num_key_value_heads: 8,
    num_hidden_layers: 126,
    vocab_size: 128256,
    max_position_embeddings: 131072,
  },
  405_853_388_800,
);
const deepseekV3 = bigShape(
  {
    model_type: 'deepseek_v3',
    hidden_size: 7168,
    intermediate_size: 18432,
    moe_intermediate_size: 2048,
    num_experts_per_tok: 8,
    num_attention_heads: 128,
    num_key_value_heads: 128,
    num_hidden_layers: 61,
    vocab_size: 129280,
    kv_lora_rank: 512,
    qk_rope_head_dim: 64,
    max_position_embeddings: 163840,
  },
  671_026_419_200,
);

test('Llama 3.1 405B 4-bit on a 256 GB Mac: fits only after raising iogpu.wired_limit_mb, with the exact command', () => {
  const r = fitMlxOnMachine(llama405, mac(256, 192), 8192);
  assert.equal(r.verdict, 'fits-after-raising-limit', JSON.stringify(r.advice));
  assert.match(r.raiseLimit?.command ?? '', /^sudo sysctl iogpu\.wired_limit_mb=\d+$/);
  assert.ok(r.raiseLimit!.valueMb * 1024 * 1024 >= r.budget.gpuNeededBytes);
  assert.ok(r.raiseLimit!.valueMb * 1024 * 1024 <= 256 * GiB);
  assert.equal(r.raiseLimit?.command, 'sudo sysctl iogpu.wired_limit_mb=224256', 'the figure the recipe README quotes');
  assert.equal(r.budget.gpuWorkingSetBytes, 192 * GiB);
  assert.equal(r.bytes.kv, 126 * 8192 * 2 * 8 * 128 * 2);
  assert.equal(r.model.bitsPerWeight, 4.5);
  // With the limit raised the same Mac says fits.
  assert.equal(fitMlxOnMachine(llama405, mac(256, 240, r.raiseLimit!.valueMb), 8192).verdict, 'fits');
  assert.equal(fitMlxOnMachine(llama405, mac(192, 144), 8192).verdict, 'does-not-fit');
});

test('DeepSeek-V3 4-bit: refused on 256 GB with the numbers, fits on 512 GB; the MLA cache is the latent', () => {
  const small = fitMlxOnMachine(deepseekV3, mac(256, 192), 8192);
  assert.equal(small.verdict, 'does-not-fit');
  assert.match(small.advice.join(' '), /Needs \d+\.\d GiB \(weights 351\.\d GiB\) but this Mac has 256\.0 GiB/);
  assert.equal(small.bytes.kv, 61 * 8192 * (512 + 64) * 2);
  const big = fitMlxOnMachine(deepseekV3, mac(512, 384), 8192);
  assert.equal(big.verdict, 'fits', JSON.stringify(big.advice));
});

test('MLX on Linux CUDA: does-not-fit, and says to use the GGUF engine', () => {
  const r = fitMlxOnMachine(llama405, linuxCuda, 8192);
  assert.equal(r.verdict, 'does-not-fit');
  assert.match(r.advice.join(' '), /Apple Silicon.*GGUF/);
});

test('orchard fit on an MLX recipe reads its repository and shows the GGUF engine of the same model too', async () => {
  const home = resolveHome({ ORCHARD_HOME: path.join(dir, 'home') });
  const recipes = path.join(home.userRecipes);
  const common = { version: '1.0.0', kind: 'llm' };
  await mkdir(path.join(recipes, 'tiny-mlx'), { recursive: true });
  await writeFile(
    path.join(recipes, 'tiny-mlx', 'recipe.json'),
    JSON.stringify({
      id: 'tiny-mlx',
      name: 'Tiny (MLX)',
      ...common,
      model: { family: 'tiny-test', engine: 'mlx', repo: base('sharded') },
      install: [],
      service: { type: 'llm', engine: 'mlx', args: ['--model', '{{app.models}}/tiny'], readiness: { http: '/v1/models' } },
    }),
  );
  await mkdir(path.join(recipes, 'tiny-gguf'), { recursive: true });
  await writeFile(
    path.join(recipes, 'tiny-gguf', 'recipe.json'),
    JSON.stringify({
      id: 'tiny-gguf',
      name: 'Tiny (GGUF)',
      ...common,
      model: { family: 'tiny-test', engine: 'gguf' },
      weights: [{ id: 'model', url: server.url('tiny.gguf'), file: 'tiny.gguf' }],
      install: [{ kind: 'fetch' }],
      service: { type: 'llm', args: ['--model', '{{weights.model.path}}', '--context', '256'], readiness: { http: '/health' } },
    }),
  );
  const r = await fitTarget('tiny-mlx', {
    machine: mac(64, 48),
    home,
    profile: await resolveProfile('darwin-arm64-metal'),
    contextSize: 2048,
  });
  assert.equal(r.engine, 'mlx');
  assert.equal(r.verdict, 'fits');
  assert.equal(r.bytes.weights, sharded.expected.dataBytes);
  assert.deepEqual(
    r.alternatives?.map((a) => [a.recipe, a.engine, a.verdict]),
    [['tiny-gguf', 'gguf', 'fits']],
  );
  // A repository URL works directly too.
  const direct = await fitTarget(base('sharded'), {
    machine: mac(64, 48),
    home,
    profile: await resolveProfile('darwin-arm64-metal'),
    contextSize: 2048,
  });
  assert.equal(direct.bytes.total, r.bytes.total);
});

test('the orchard CLI: fit --json on an MLX repository URL (this Linux machine: does-not-fit, MLX is Apple-only)', async () => {
  const r = await runCli(['fit', base('sharded'), '--json', '--context', '2048'], { home: path.join(dir, 'cli home') });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { verdict: string; bytes: { weights: number; kv: number; total: number }; advice: string[] };
  assert.equal(report.bytes.weights, sharded.expected.dataBytes);
  assert.equal(report.bytes.kv, 3 * 2048 * 2 * 2 * 64 * 2);
  if (process.platform !== 'darwin') {
    assert.equal(report.verdict, 'does-not-fit');
    assert.match(report.advice.join(' '), /Apple Silicon/);
  }
});
