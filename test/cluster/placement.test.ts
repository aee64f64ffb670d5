import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import { freeLoopbackPort } from '../../engine/cluster/net.js';
import { planClusterSplit } from '../../engine/cluster/split.js';
import { readModelHeaders } from '../../engine/fit/model-headers.js';
import { modelShape } from '../../engine/fit/model-shape.js';
import { llamaCppBuild, type LlamaCppBuild } from '../helpers/llamacpp-build.js';
import { cliEntry, tempDir } from '../helpers/paths.js';
import { writeTinyGguf, type TinyGgufOptions } from '../helpers/tiny-gguf.js';
import { loggedPlacement, outputDevice, processesMatching, rangesByDevice } from './llama-server-log.js';

// Orchard's per-node prediction against llama.cpp's own placement log, on generated models: two
// real `orchard cluster worker` agents (each starts a real ggml-rpc-server) and llama-server with
// the -ts Orchard chose.

let build: LlamaCppBuild | undefined;
let skip: string | undefined;
let scratch: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  const b = await llamaCppBuild();
  if ('skip' in b) skip = b.skip;
  else build = b;
  scratch = await tempDir('orchard placement ');
});
after(() => scratch.cleanup());

const GiB = 1024 ** 3;

interface Agent {
  port: number;
  pid: number;
  child: ResultPromise;
}

async function startAgent(home: string): Promise<Agent> {
  const child = execa(process.execPath, [cliEntry, 'cluster', 'worker'], {
    env: { ...process.env, ORCHARD_HOME: home, ORCHARD_LLAMACPP_BIN: build!.binDir },
    stdin: 'pipe',
    buffer: false,
    reject: false,
  });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const event = JSON.parse(line) as { event: string; port?: number; pid?: number; message?: string };
    if (event.event === 'ready') return { port: event.port!, pid: event.pid!, child };
    throw new Error(`worker: ${line}`);
  }
  throw new Error('the worker agent printed nothing');
}

const cases: { name: string; gguf: TinyGgufOptions; budgets: [number, number] }[] = [
  { name: '8 layers, equal budgets', gguf: { mode: 'random', layers: 8, embd: 64, seed: 1 }, budgets: [8 * GiB, 8 * GiB] },
  {
    name: '12 layers F16, a 1:3 budget',
    gguf: { mode: 'random', layers: 12, embd: 96, heads: 4, f16: true, seed: 2 },
    budgets: [2 * GiB, 6 * GiB],
  },
  { name: '5 layers, a 3:1 budget', gguf: { mode: 'successor', layers: 5, embd: 64 }, budgets: [9 * GiB, 3 * GiB] },
];

for (const c of cases) {
  test(`per-node placement matches llama.cpp's own log: ${c.name}`, async (t) => {
    if (skip) return t.skip(skip);
    const model = path.join(scratch.dir, `${c.name.replace(/\W+/g, '-')}.gguf`);
    await writeTinyGguf(model, c.gguf);
    const headers = await readModelHeaders(model);
    const shape = modelShape(headers);
    const split = planClusterSplit(
      shape,
      headers,
      [
        { name: 'a', budgetBytes: c.budgets[0], device: true },
        { name: 'b', budgetBytes: c.budgets[1], device: true },
        { name: 'head', budgetBytes: 8 * GiB, device: false, head: true },
      ],
      { contextSize: 512 },
    );

    const agents = [await startAgent(path.join(scratch.dir, 'a home')), await startAgent(path.join(scratch.dir, 'b home'))];
    const port = await freeLoopbackPort();
    const server = execa(
      build!.llamaServer,
      [
        '-m',
        model,
        '--rpc',
        agents.map((a) => `127.0.0.1:${a.port}`).join(','),
        '-ts',
        split.tensorSplit.join(','),
        '-ngl',
        '999',
        '--fit',
        'off',
        '-c',
        '512',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '-lv',
        '5',
      ],
      { reject: false, all: true, buffer: true, stdin: 'ignore' },
    );
    let log = '';
    try {
      const deadline = Date.now() + 60_000;
      while (
        Date.now() < deadline &&
        !(await fetch(`http://127.0.0.1:${port}/health`).then(
          (r) => r.ok,
          () => false,
        ))
      )
        await delay(200);
    } finally {
      server.kill('SIGTERM');
      log = String((await server).all ?? '');
      for (const a of agents) a.child.stdin?.end();
      await Promise.all(agents.map((a) => a.child));
    }
    const placed = loggedPlacement(log);
    assert.deepEqual(
      rangesByDevice(placed.layers, 2, shape.layers),
      split.nodes.slice(0, 2).map((n) => n.layers),
      `llama.cpp's layers per device:\n${log
        .split('\n')
        .filter((l) => l.includes('assigned'))
        .join('\n')}`,
    );
    assert.equal(
      outputDevice(placed.layers, shape.layers),
      split.nodes.findIndex((n) => n.output),
    );
    agents.forEach((a, i) => {
      const node = split.nodes[i]!;
      const mib = placed.modelMiB.get(a.port);
      const want = node.bytes.weights / 1024 ** 2;
      assert.ok(
        mib !== undefined && Math.abs(mib - want) <= 0.01 + want * 0.02,
        `${node.name}: logged ${mib} MiB of weights, predicted ${want.toFixed(3)}`,
      );
      const kv = placed.kvMiB.get(a.port);
      const wantKv = node.bytes.kv / 1024 ** 2;
      assert.ok(
        kv !== undefined && Math.abs(kv - wantKv) <= 0.01,
        `${node.name}: logged ${kv} MiB of KV cache, predicted ${wantKv.toFixed(3)}`,
      );
    });
  });
}

test("the worker agent serves on 127.0.0.1 only, with SIGPIPE ignored, and its RPC server ends with the head's session", async (t) => {
  if (skip) return t.skip(skip);
  const agent = await startAgent(path.join(scratch.dir, 'solo home'));
  const status = await readFile(`/proc/${agent.pid}/status`, 'utf8');
  const ignored = BigInt(`0x${/^SigIgn:\s+([0-9a-f]+)/m.exec(status)![1]}`);
  assert.equal((ignored >> 12n) & 1n, 1n, 'SIGPIPE (13) is ignored by ggml-rpc-server');
  const tcp = await readFile('/proc/net/tcp', 'utf8');
  const listening = tcp
    .split('\n')
    .filter((l) => l.includes(`:${agent.port.toString(16).toUpperCase().padStart(4, '0')} `) && / 0A /.test(l));
  assert.ok(
    listening.length > 0 && listening.every((l) => l.trim().split(/\s+/)[1]!.startsWith('0100007F:')),
    `listens on 127.0.0.1 only: ${listening.join('\n')}`,
  );
  agent.child.stdin?.end();
  await agent.child;
  await delay(300);
  assert.deepEqual(processesMatching(`-p ${agent.port}`), [], 'the RPC server is gone once the session closed');
});
