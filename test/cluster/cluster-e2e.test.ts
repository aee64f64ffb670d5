import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';
import OpenAI from 'openai';
import type { ClusterFitReport } from '../../engine/cluster/cluster-fit.js';
import type { ClusterHost } from '../../engine/cluster/hosts.js';
import { freeLoopbackPort } from '../../engine/cluster/net.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { llamaCppBuild, type LlamaCppBuild } from '../helpers/llamacpp-build.js';
import { cliEntry, tempDir } from '../helpers/paths.js';
import { sshdSkipReason, startSshd, type TestSshd } from '../helpers/sshd.js';
import { writeTinyGguf } from '../helpers/tiny-gguf.js';
import { loggedPlacement, processesMatching, rangesByDevice } from './llama-server-log.js';

// The whole cluster path on one machine, with nothing faked: the engine built by its recipe, a
// real OpenSSH server on loopback with a pinned host key and Orchard's own key, two workers
// (`orchard cluster worker` in their own ORCHARD_HOMEs, reached over ssh), real tunnels, and
// llama-server on the head, driven by the official openai client.

interface Health {
  status: string;
  restarts: number;
  lastFailure?: string;
  tensorSplit: number[];
  nodes: { name: string; role: string; state: string; remotePort?: number; localPort?: number; pid?: number; rpcVersion?: string }[];
}

let build: LlamaCppBuild | undefined;
let skip: string | undefined;
let sshd: TestSshd | undefined;
let scratch: { dir: string; cleanup: () => Promise<void> };
let headHome: string;
let model: string;
let reference: string;
const PROMPT = 'Hello';

before(async () => {
  skip = sshdSkipReason();
  if (skip) return;
  const built = await llamaCppBuild();
  if ('skip' in built) {
    skip = built.skip;
    return;
  }
  build = built;
  scratch = await tempDir('orchard cluster ');
  headHome = path.join(scratch.dir, 'head home');
  model = path.join(scratch.dir, 'tiny model.gguf');
  await writeTinyGguf(model, { mode: 'successor', layers: 6, embd: 64 });
  sshd = await startSshd(path.join(scratch.dir, 'sshd'));
  reference = await singleNodeCompletion(build, model);
});

after(async () => {
  await sshd?.stop();
  await scratch?.cleanup();
});

const env = () => ({ ORCHARD_LLAMACPP_BIN: build!.binDir });
const workerOrchard = (name: string) => JSON.stringify(['env', `ORCHARD_HOME=${path.join(scratch.dir, `${name} home`)}`, `ORCHARD_LLAMACPP_BIN=${build!.binDir}`, process.execPath, cliEntry]);

test('pairing: a wrong fingerprint is refused; a missing authorized key says what to add; then both workers pair', async (t) => {
  if (skip) return t.skip(skip);
  const s = sshd!;
  const wrong = await runCli(['cluster', 'add', s.destination, '--port', String(s.port), '--name', 'w1', '--accept-fingerprint', 'SHA256:not-this-one', '--orchard', workerOrchard('w1')], { home: headHome, env: env() });
  assert.equal(wrong.code, 1, wrong.stderr);
  assert.match(wrong.stderr, /host key .* was not approved/);
  assert.ok(wrong.stderr.includes(s.fingerprint), 'the refusal shows the real fingerprint');

  const noKey = await runCli(['cluster', 'add', s.destination, '--port', String(s.port), '--name', 'w1', '--accept-fingerprint', s.fingerprint, '--orchard', workerOrchard('w1')], { home: headHome, env: env() });
  assert.equal(noKey.code, 1, noKey.stderr);
  const publicKey = (await readFile(path.join(headHome, 'cluster', 'id_ed25519.pub'), 'utf8')).trim();
  assert.ok(noKey.stderr.includes('authorized_keys') && noKey.stderr.includes(publicKey), noKey.stderr);

  await s.authorize(publicKey);
  for (const name of ['w1', 'w2']) {
    const added = await runCli(['cluster', 'add', s.destination, '--port', String(s.port), '--name', name, '--accept-fingerprint', s.fingerprint, '--orchard', workerOrchard(name), '--json'], { home: headHome, env: env() });
    assert.equal(added.code, 0, added.stderr);
    const host = parseJson<{ host: ClusterHost; warnings: string[] }>(added);
    assert.equal(host.host.fingerprint, s.fingerprint);
    assert.ok(host.host.peer && host.host.peer.budgetBytes > 0 && host.host.peer.engine, 'the peer reported its budget and engine build');
    assert.deepEqual(host.warnings, []);
  }
  const knownHosts = await readFile(path.join(headHome, 'cluster', 'known_hosts'), 'utf8');
  assert.equal(knownHosts.trim().split('\n').length, 1, 'one pinned key line for the shared sshd');

  const doctor = await runCli(['cluster', 'doctor', '--json'], { home: headHome, env: env(), timeoutMs: 180_000 });
  assert.equal(doctor.code, 0, doctor.stderr);
  const report = parseJson<{ hosts: { name: string; ok: boolean; link?: { rttMs?: { median: number }; mibPerSecond?: number } }[] }>(doctor);
  for (const h of report.hosts) {
    assert.ok(h.ok, `${h.name} is healthy`);
    assert.ok((h.link?.rttMs?.median ?? -1) > 0 && (h.link?.mibPerSecond ?? 0) > 0, 'RTT and bandwidth were measured');
  }
});

test('a model over two workers: placement as predicted, the same greedy text as one node, restart after a worker dies, nothing left after stop', async (t) => {
  if (skip) return t.skip(skip);
  const fitRun = await runCli(['fit', model, '--hosts', 'w1,w2', '--context', '256', '--json'], { home: headHome, env: env() });
  assert.equal(fitRun.code, 0, fitRun.stderr);
  const fit = parseJson<ClusterFitReport>(fitRun);
  const predicted = fit.nodes.filter((n) => !n.head || n.layers).map((n) => n.layers);

  const port = await freeLoopbackPort();
  let log = '';
  const head: ResultPromise = execa(process.execPath, [cliEntry, 'service', 'llm-cluster', '--model', model, '--hosts', 'w1,w2', '--port', String(port), '--context', '256'], {
    env: { ...process.env, ORCHARD_HOME: headHome, ...env() },
    reject: false,
    buffer: false,
    stdin: 'ignore',
  });
  head.stdout?.on('data', (c: Buffer) => (log += c.toString()));
  head.stderr?.on('data', (c: Buffer) => (log += c.toString()));
  let idle: Socket | undefined;
  try {
    let health = await waitHealthy(port, (h) => h.status === 'ok', log);
    assert.deepEqual(health.tensorSplit, fit.tensorSplit);

    // llama.cpp's own placement log against the per-node prediction.
    const placed = loggedPlacement(log);
    assert.deepEqual(rangesByDevice(placed.layers, 2), predicted, `layers per worker, log:\n${[...placed.layers].join(' ')}`);
    for (const [i, name] of ['w1', 'w2'].entries()) {
      const node = health.nodes.find((n) => n.name === name)!;
      const mib = placed.modelMiB.get(node.localPort!);
      const want = fit.nodes[i]!.bytes.weights / 1024 ** 2;
      assert.ok(mib !== undefined && Math.abs(mib - want) < 0.01 + want * 0.02, `${name}: llama.cpp put ${mib} MiB of weights there, Orchard predicted ${want.toFixed(3)} MiB`);
    }

    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 30_000 });
    const first = await client.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 8, temperature: 0 });
    assert.equal(first.choices[0]?.text, reference, 'greedy output equals the single-node run');

    // An idle client holds a connection to w1's RPC server (it serves one client at a time)…
    const w1 = health.nodes.find((n) => n.name === 'w1')!;
    idle = connect({ host: '127.0.0.1', port: w1.remotePort! });
    await new Promise((resolve) => idle!.once('connect', resolve));
    // …and w2's RPC server dies: the group must restart as one and answer again.
    const w2 = health.nodes.find((n) => n.name === 'w2')!;
    process.kill(w2.pid!, 'SIGKILL');
    health = await waitHealthy(port, (h) => h.restarts >= 1 && h.status === 'ok', log);
    assert.match(health.lastFailure ?? '', /w2/, 'status says which node failed');
    assert.notEqual(health.nodes.find((n) => n.name === 'w1')!.remotePort, w1.remotePort, 'a restart uses fresh worker ports');
    const again = await client.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 8, temperature: 0 });
    assert.equal(again.choices[0]?.text, reference);
  } finally {
    idle?.destroy();
    head.kill('SIGTERM');
    await head;
  }
  await delay(500);
  assert.deepEqual(processesMatching(build!.binDir), [], 'no llama-server or ggml-rpc-server left running');
  assert.deepEqual(processesMatching(path.join(headHome, 'cluster', 'id_ed25519')), [], 'no ssh session or tunnel left running');
  assert.deepEqual(processesMatching(`${scratch.dir}/w1 home`), [], 'no worker agent left running');
});

async function waitHealthy(port: number, ok: (h: Health) => boolean, log: string): Promise<Health> {
  const deadline = Date.now() + 120_000;
  let last: Health | undefined;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      last = (await res.json()) as Health;
      if (ok(last)) return last;
    } catch {
      // not up yet
    }
    await delay(250);
  }
  throw new Error(`the cluster never became healthy: ${JSON.stringify(last)}\n${log.slice(-3000)}`);
}

/** The same model and prompt on llama-server alone: the reference text. */
async function singleNodeCompletion(b: LlamaCppBuild, file: string): Promise<string> {
  const port = await freeLoopbackPort();
  const server = execa(b.llamaServer, ['-m', file, '-c', '256', '--host', '127.0.0.1', '--port', String(port)], { reject: false, stdin: 'ignore' });
  try {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false);
      if (ok) break;
      await delay(200);
    }
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'unused', maxRetries: 0 });
    const r = await client.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 8, temperature: 0 });
    return r.choices[0]?.text ?? '';
  } finally {
    server.kill('SIGTERM');
    await server;
  }
}
