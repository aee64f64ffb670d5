import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fitModelOnMachine } from '../../engine/fit/fit-verdict.js';
import { readModelShape } from '../../engine/fit/model-headers.js';
import type { ModelShape } from '../../engine/fit/model-shape.js';
import { predictMemory } from '../../engine/fit/predict-memory.js';
import type { MachineInfo } from '../../engine/hardware/machine-info.js';
import { tempDir } from '../helpers/paths.js';
import { writeTinyGguf } from '../helpers/tiny-gguf.js';

const GiB = 1024 ** 3;
let dir: string;
let cleanup: () => Promise<void>;
let server: http.Server;
let base: string;
let rangeRequests = 0;
let bytesServed = 0;

before(async () => {
  const t = await tempDir();
  dir = t.dir;
  cleanup = t.cleanup;
  // A Range-capable static server on loopback, counting what it sends.
  server = http.createServer(async (req, res) => {
    const file = path.join(dir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const size = (await stat(file).catch(() => undefined))?.size;
    if (size === undefined) return res.writeHead(404).end();
    const m = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? ''));
    if (!m) {
      res.writeHead(200, { 'content-length': size });
      return createReadStream(file).pipe(res);
    }
    rangeRequests++;
    const start = Number(m[1]);
    const end = Math.min(Number(m[2]), size - 1);
    if (start >= size) return res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
    bytesServed += end - start + 1;
    res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1 });
    createReadStream(file, { start, end }).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(async () => {
  server?.close();
  await cleanup?.();
});

function mac(ramGiB: number, workingSetGiB: number): MachineInfo {
  return {
    os: 'darwin',
    arch: 'arm64',
    cpu: { brand: 'Apple M3 Ultra', cores: 28 },
    memory: { totalBytes: ramGiB * GiB },
    unifiedMemory: true,
    gpus: [{ name: 'Apple M3 Ultra', vendor: 'apple', backends: ['metal'] }],
    accelerators: ['metal', 'cpu'],
    macos: { gpuWorkingSetBytes: workingSetGiB * GiB },
    sources: [],
  };
}
function cudaBox(vramGiB: number, ramGiB: number): MachineInfo {
  return {
    os: 'linux',
    arch: 'x64',
    cpu: { brand: 'x', cores: 16 },
    memory: { totalBytes: ramGiB * GiB },
    unifiedMemory: false,
    gpus: [{ name: 'NVIDIA RTX 4090', vendor: 'nvidia', vramBytes: vramGiB * GiB, backends: ['cuda', 'vulkan'] }],
    accelerators: ['cuda', 'vulkan', 'cpu'],
    sources: [],
  };
}

/** A 70B-class shape (Llama 3 70B numbers, Q4_K_M-sized weights) to test verdicts without a 40 GB file. */
const llama70b: ModelShape = {
  architecture: 'llama',
  layers: 80,
  embedding: 8192,
  feedForward: 28672,
  heads: 64,
  headsKv: 8,
  keyLength: 128,
  valueLength: 128,
  vocab: 128256,
  trainContext: 131072,
  weightsBytes: 42.5e9,
  parameters: 70.6e9,
  tokenEmbeddingBytes: 0.6e9,
  splitCount: 1,
};

test('weights are the exact tensor bytes, for generated models of several sizes', async () => {
  for (const [embd, layers, f16] of [
    [64, 2, true],
    [128, 4, false],
    [256, 6, true],
  ] as const) {
    const file = path.join(dir, `m-${embd}-${layers}.gguf`);
    const written = await writeTinyGguf(file, { mode: 'random', embd, layers, heads: 4, f16 });
    const shape = await readModelShape(file);
    assert.equal(shape.layers, layers);
    assert.equal(shape.embedding, embd);
    assert.equal(shape.parameters, written.parameters);
    // file = header + tensor data (+ alignment padding): weights are a little less than the file
    assert.ok(shape.weightsBytes < written.bytes && shape.weightsBytes > written.bytes * 0.7, `${shape.weightsBytes} vs ${written.bytes}`);
    const p = predictMemory(shape, { contextSize: 256, accelerator: 'cpu' });
    assert.equal(p.kv, layers * 256 * 2 * embd * 2);
    assert.equal(p.total, p.weights + p.kv + p.compute + p.overhead);
  }
});

test('over HTTP only the header is read, with Range requests', async () => {
  await writeTinyGguf(path.join(dir, 'remote.gguf'), { mode: 'random', embd: 512, layers: 8, heads: 8 });
  const size = (await stat(path.join(dir, 'remote.gguf'))).size;
  rangeRequests = 0;
  bytesServed = 0;
  const local = await readModelShape(path.join(dir, 'remote.gguf'));
  const remote = await readModelShape(`${base}/remote.gguf`);
  assert.deepEqual(remote, local);
  assert.ok(rangeRequests >= 1);
  assert.ok(bytesServed < size / 4, `served ${bytesServed} of ${size} bytes`);
});

test('a server that ignores Range is refused rather than downloaded whole', async () => {
  const noRange = http.createServer((_req, res) => res.writeHead(200, { 'content-length': 10 }).end('0123456789'));
  await new Promise<void>((r) => noRange.listen(0, '127.0.0.1', r));
  try {
    await assert.rejects(
      readModelShape(`http://127.0.0.1:${(noRange.address() as { port: number }).port}/x.gguf`),
      /answered 200 to a Range request/,
    );
  } finally {
    noRange.close();
  }
});

test('70B on a 256 GB Mac fits; on a 64 GB Mac with a 48 GB working set it needs the limit raised; on 32 GB it does not fit', () => {
  const big = fitModelOnMachine(llama70b, mac(256, 192), { contextSize: 8192 });
  assert.equal(big.verdict, 'fits');
  const mid = fitModelOnMachine(llama70b, mac(64, 42), { contextSize: 8192 });
  assert.equal(mid.verdict, 'fits-after-raising-limit');
  assert.match(mid.raiseLimit!.command, /^sudo sysctl iogpu\.wired_limit_mb=\d+$/);
  assert.ok(mid.raiseLimit!.valueMb * 1024 * 1024 >= mid.budget.gpuNeededBytes);
  assert.ok(mid.raiseLimit!.valueMb * 1024 * 1024 <= 64 * GiB);
  const small = fitModelOnMachine(llama70b, mac(32, 24), { contextSize: 8192 });
  assert.equal(small.verdict, 'does-not-fit');
  assert.ok(
    small.advice.some((a) => /Q3_K_M|Q2_K|IQ/.test(a)),
    small.advice.join('\n'),
  );
});

test('on CUDA: full offload when VRAM holds it, partial offload advice otherwise', () => {
  const fits = fitModelOnMachine(
    { ...llama70b, weightsBytes: 4.9e9, parameters: 8e9, layers: 32, embedding: 4096, feedForward: 14336, heads: 32 },
    cudaBox(24, 64),
    { contextSize: 8192 },
  );
  assert.equal(fits.verdict, 'fits');
  assert.equal(fits.offload.gpuLayers, fits.offload.totalLayers);
  const partial = fitModelOnMachine(llama70b, cudaBox(24, 128), { contextSize: 8192 });
  assert.equal(partial.verdict, 'fits');
  assert.ok(partial.offload.gpuLayers < partial.offload.totalLayers);
  assert.ok(partial.advice.some((a) => /run on the CPU/.test(a)));
  assert.equal(fitModelOnMachine(llama70b, cudaBox(8, 16), { contextSize: 8192 }).verdict, 'does-not-fit');
});

test('KV grows with context: a long context can turn a fit into a does-not-fit', () => {
  const m = mac(64, 48);
  const short = fitModelOnMachine(llama70b, m, { contextSize: 4096 });
  const long = fitModelOnMachine(llama70b, m, { contextSize: 131072 });
  assert.ok(long.bytes.kv > short.bytes.kv * 30);
  assert.equal(long.verdict, 'does-not-fit');
  assert.ok(
    long.advice.some((a) => /--context \d+/.test(a)),
    long.advice.join('\n'),
  );
});
