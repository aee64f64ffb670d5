import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { execa } from 'execa';
import { clusterFit } from '../../engine/cluster/cluster-fit.js';
import { clusterPaths, writeHosts, type ClusterHost } from '../../engine/cluster/hosts.js';
import { remoteCommand } from '../../engine/cluster/ssh.js';
import { layerBytes, planClusterSplit } from '../../engine/cluster/split.js';
import { resolveHome } from '../../engine/core/home.js';
import { readModelHeaders } from '../../engine/fit/model-headers.js';
import { modelShape } from '../../engine/fit/model-shape.js';
import type { MachineInfo } from '../../engine/hardware/machine-info.js';
import { tempDir } from '../helpers/paths.js';
import { writeTinyGguf } from '../helpers/tiny-gguf.js';

let scratch: { dir: string; cleanup: () => Promise<void> };
let model: string;
before(async () => {
  scratch = await tempDir('orchard split ');
  model = path.join(scratch.dir, 'm.gguf');
  await writeTinyGguf(model, { mode: 'random', layers: 8, embd: 64, seed: 3 });
});
after(() => scratch.cleanup());

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

test('layer bytes come from the tensor table: blk.N.* per layer, output (tied: a copy of token_embd) apart', async () => {
  const headers = await readModelHeaders(model);
  const shape = modelShape(headers);
  const { perLayer, output, tokenEmbedding } = layerBytes(headers, shape.layers);
  assert.equal(perLayer.length, 8);
  assert.ok(
    perLayer.every((b) => b > 0 && b === perLayer[0]),
    'identical layers weigh the same',
  );
  const all = headers.flatMap((h) => h.tensors).reduce((s, t) => s + t.bytes, 0);
  const outputNorm = headers
    .flatMap((h) => h.tensors)
    .filter((t) => t.name.startsWith('output'))
    .reduce((s, t) => s + t.bytes, 0);
  assert.equal(perLayer.reduce((a, b) => a + b, 0) + outputNorm + tokenEmbedding, all, 'every tensor is counted once');
  const tied = !headers[0]!.tensors.some((t) => t.name === 'output.weight');
  assert.equal(output, outputNorm + (tied ? tokenEmbedding : 0));
});

test(
  'the split follows the budgets by bytes, -ts counts the output layer with the last device, and over-budget nodes are ' +
    'refused with numbers',
  async () => {
    const headers = await readModelHeaders(model);
    const shape = modelShape(headers);
    const even = planClusterSplit(
      shape,
      headers,
      [
        { name: 'a', budgetBytes: GiB, device: true },
        { name: 'b', budgetBytes: GiB, device: true },
        { name: 'head', budgetBytes: GiB, device: false, head: true },
      ],
      { contextSize: 256 },
    );
    assert.deepEqual(
      even.tensorSplit.reduce((a, b) => a + b, 0),
      shape.layers + 1,
    );
    assert.deepEqual(
      even.nodes.map((n) => n.layers),
      [[0, 3], [4, 7], null],
    );
    assert.equal(even.nodes[1]!.output, true);
    assert.ok(even.fits);

    const skewed = planClusterSplit(
      shape,
      headers,
      [
        { name: 'a', budgetBytes: GiB, device: true },
        { name: 'b', budgetBytes: 3 * GiB, device: true },
        { name: 'head', budgetBytes: GiB, device: false, head: true },
      ],
      { contextSize: 256 },
    );
    assert.deepEqual(
      skewed.nodes.map((n) => n.layers),
      [[0, 1], [2, 7], null],
      'three times the budget takes about three times the bytes',
    );

    const tooSmall = planClusterSplit(
      shape,
      headers,
      [
        { name: 'a', budgetBytes: 0.1 * MiB, device: true },
        { name: 'b', budgetBytes: 0.1 * MiB, device: true },
        { name: 'head', budgetBytes: GiB, device: false, head: true },
      ],
      { contextSize: 256 },
    );
    assert.equal(tooSmall.fits, false);
    assert.match(tooSmall.advice.join('\n'), /^a needs [\d.]+ MiB but offers 0\.1 MiB/m);
  },
);

test('fit --hosts: a Mac peer over its working set gets the exact wired-limit command when raising it is enough', async () => {
  const home = resolveHome({ ORCHARD_HOME: path.join(scratch.dir, 'home') });
  const paths = clusterPaths(home);
  await mkdir(paths.dir, { recursive: true });
  const peer = (budgetBytes: number): ClusterHost['peer'] => ({
    orchardVersion: '0.1.0',
    engine: null,
    budgetBytes,
    ramBytes: 256 * GiB,
    accelerator: 'metal',
    platform: 'darwin-arm64',
  });
  await writeHosts(paths, [
    {
      name: 'studio-2',
      destination: 'me@studio-2',
      port: 22,
      fingerprint: 'SHA256:x',
      orchard: ['orchard'],
      peer: peer(0.05 * MiB),
      addedAt: '',
    },
    { name: 'studio-3', destination: 'me@studio-3', port: 22, fingerprint: 'SHA256:y', orchard: ['orchard'], peer: peer(GiB), addedAt: '' },
  ]);
  const machine: MachineInfo = {
    os: 'linux',
    arch: 'x64',
    cpu: { brand: 'test', cores: 2 },
    memory: { totalBytes: 24 * GiB },
    unifiedMemory: false,
    gpus: [],
    accelerators: ['cpu'],
    sources: [],
  };
  const r = await clusterFit(model, ['studio-2', 'studio-3'], { home, machine, contextSize: 256 });
  assert.equal(r.fits, false);
  assert.deepEqual(
    r.raiseLimit.map((x) => [x.node, x.command]),
    [['studio-2', 'sudo sysctl iogpu.wired_limit_mb=2048']],
  );
  assert.match(r.note, /memory, not speed/);
});

test("a remote command reaches the peer's shell as exactly the words given", async () => {
  const words = [
    'env',
    'ORCHARD_HOME=/tmp/a b',
    "it's",
    '$(touch /tmp/orchard-should-not-exist)',
    '`id`',
    'x;y',
    'line\nbreak',
    '"q"',
    '*',
  ];
  // ssh hands the joined text to the peer's shell as `sh -c <text>`.
  const r = await execa('sh', ['-c', `printf '%s\\0' ${remoteCommand(words.slice(1))}`]);
  assert.deepEqual(r.stdout.split('\0').slice(0, -1), words.slice(1));
});
