import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { execa } from 'execa';
import OpenAI from 'openai';
import type { ClusterFitReport } from '../../engine/cluster/cluster-fit.js';
import type { ClusterHost } from '../../engine/cluster/hosts.js';
import { freeLoopbackPort } from '../../engine/cluster/net.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { llamaCppBuild, type LlamaCppBuild } from '../helpers/llamacpp-build.js';
import { cliEntry, tempDir } from '../helpers/paths.js';
import { startRangeServer } from '../helpers/range-server.js';
import { sshdSkipReason, startSshd, type TestSshd } from '../helpers/sshd.js';
import { writeTinyGguf } from '../helpers/tiny-gguf.js';
import { loggedPlacement, outputDevice, processesMatching, rangesByDevice } from './llama-server-log.js';

// The whole cluster path on one machine, with nothing faked: the engine built by its recipe, a
// real OpenSSH server on loopback with a pinned host key and Orchard's own key, two workers
// (`orchard cluster worker` in their own ORCHARD_HOMEs, reached over ssh), real tunnels, and
// llama-server on the head, driven by the official openai client.

interface Health {
  status: string;
  restarts: number;
  lastFailure?: string;
  tensorSplit: number[];
  nodes: {
    name: string;
    role: string;
    state: string;
    remotePort?: number;
    localPort?: number;
    pid?: number;
    rpcVersion?: string;
    measured?: { model: number };
  }[];
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
const workerOrchard = (name: string) =>
  JSON.stringify([
    'env',
    `ORCHARD_HOME=${path.join(scratch.dir, `${name} home`)}`,
    `ORCHARD_LLAMACPP_BIN=${build!.binDir}`,
    process.execPath,
    cliEntry,
  ]);

test('pairing: a wrong fingerprint is refused; a missing authorized key says what to add; then both workers pair', async (t) => {
  if (skip) return t.skip(skip);
  const s = sshd!;
  const wrong = await runCli(
    [
      'cluster',
      'add',
      s.destination,
      '--port',
      String(s.port),
      '--name',
      'w1',
      '--accept-fingerprint',
      'SHA256:not-this-one',
      '--orchard',
      workerOrchard('w1'),
    ],
    { home: headHome, env: env() },
  );
  assert.equal(wrong.code, 1, wrong.stderr);
  assert.match(wrong.stderr, /host key .* was not approved/);
  assert.ok(wrong.stderr.includes(s.fingerprint), 'the refusal shows the real fingerprint');

  const noKey = await runCli(
    [
      'cluster',
      'add',
      s.destination,
      '--port',
      String(s.port),
      '--name',
      'w1',
      '--accept-fingerprint',
      s.fingerprint,
      '--orchard',
      workerOrchard('w1'),
    ],
    { home: headHome, env: env() },
  );
  assert.equal(noKey.code, 1, noKey.stderr);
  const publicKey = (await readFile(path.join(headHome, 'cluster', 'id_ed25519.pub'), 'utf8')).trim();
  assert.ok(noKey.stderr.includes('authorized_keys') && noKey.stderr.includes(publicKey), noKey.stderr);

  await s.authorize(publicKey);
  for (const name of ['w1', 'w2']) {
    const added = await runCli(
      [
        'cluster',
        'add',
        s.destination,
        '--port',
        String(s.port),
        '--name',
        name,
        '--accept-fingerprint',
        s.fingerprint,
        '--orchard',
        workerOrchard(name),
        '--json',
      ],
      { home: headHome, env: env() },
    );
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
  const report = parseJson<{ hosts: { name: string; ok: boolean; link?: { rttMs?: { median: number }; mibPerSecond?: number } }[] }>(
    doctor,
  );
  for (const h of report.hosts) {
    assert.ok(h.ok, `${h.name} is healthy`);
    assert.ok((h.link?.rttMs?.median ?? -1) > 0 && (h.link?.mibPerSecond ?? 0) > 0, 'RTT and bandwidth were measured');
  }
});

test(
  'a cluster app: installed from a recipe, started by the supervisor, placed as predicted, the same greedy text as one node, ' +
    'restarted as one, nothing left after stop',
  async (t) => {
    if (skip) return t.skip(skip);
    const fitRun = await runCli(['fit', model, '--hosts', 'w1,w2', '--context', '256', '--json'], { home: headHome, env: env() });
    assert.equal(fitRun.code, 0, fitRun.stderr);
    const fit = parseJson<ClusterFitReport>(fitRun);
    const predicted = fit.nodes.filter((n) => !n.head || n.layers).map((n) => n.layers);

    const plan = await runCli(['cluster', 'plan', model, '--hosts', 'w1,w2', '--context', '256'], { home: headHome, env: env() });
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /cluster worker/);
    assert.equal(
      plan.stdout.match(/-L '?127\.0\.0\.1:<port>:127\.0\.0\.1:<port>/g)?.length,
      2,
      'every tunnel is shown, loopback on both ends',
    );
    assert.doesNotMatch(plan.stdout, /DANGER/, 'nothing listens beyond loopback without a direct cable');

    // The model as a recipe's weight, served on loopback; the service is the cluster head.
    const bytes = await readFile(model);
    const files = await startRangeServer({ 'tiny.gguf': bytes });
    const recipeDir = path.join(scratch.dir, 'recipes', 'cluster-tiny');
    await mkdir(recipeDir, { recursive: true });
    await writeFile(
      path.join(recipeDir, 'recipe.json'),
      JSON.stringify({
        id: 'cluster-tiny',
        name: 'Tiny model over the cluster (test)',
        version: '1.0.0',
        kind: 'llm',
        inputs: { hosts: { type: 'string', title: 'Cluster hosts', default: '', pattern: '^[a-z0-9._,-]*$' } },
        weights: [{ id: 'model', url: files.url('tiny.gguf'), file: 'tiny.gguf', size: bytes.length, sha256: files.sha256('tiny.gguf') }],
        install: [
          { kind: 'fetch', id: 'fetch' },
          { kind: 'link', id: 'link', weight: 'model' },
        ],
        service: {
          type: 'llm-cluster',
          args: ['--model', '{{weights.model.path}}', '--hosts', '{{inputs.hosts}}', '--context', '256'],
          readiness: { http: '/health', timeout: 120 },
          stopGraceSeconds: 10,
        },
      }),
    );
    const install = await runCli(['install', recipeDir, '--input', 'hosts=w1,w2', '--json'], {
      home: headHome,
      env: env(),
      timeoutMs: 120_000,
    });
    files.close().catch(() => undefined);
    assert.equal(install.code, 0, install.stderr + install.stdout);

    let idle: Socket | undefined;
    try {
      const started = await runCli(['start', 'cluster-tiny', '--json'], { home: headHome, env: env(), timeoutMs: 180_000 });
      assert.equal(started.code, 0, started.stderr + started.stdout);
      const status = parseJson<{ service: { state: string; port: number } }>(started).service;
      assert.equal(status.state, 'ready');
      const port = status.port;
      let health = await waitHealthy(port, (h) => h.status === 'ok');
      assert.deepEqual(health.tensorSplit, fit.tensorSplit);

      // llama.cpp's own placement log (the app's service log) against the per-node prediction.
      // The supervisor tails the service's output a little behind it: wait until the load lines are in.
      let placed = loggedPlacement('');
      for (let tries = 0; tries < 50 && (placed.layers.size < 7 || placed.modelMiB.size < 2); tries++) {
        if (tries > 0) await delay(200);
        placed = loggedPlacement((await runCli(['logs', 'cluster-tiny', '-n', '5000'], { home: headHome, env: env() })).stdout);
      }
      assert.deepEqual(rangesByDevice(placed.layers, 2, 6), predicted, `layers per worker, log:\n${[...placed.layers].join(' ')}`);
      assert.equal(
        outputDevice(placed.layers, 6),
        fit.nodes.findIndex((n) => n.output),
        'the output layer is where Orchard predicted',
      );
      for (const [i, name] of ['w1', 'w2'].entries()) {
        const node = health.nodes.find((n) => n.name === name)!;
        const want = fit.nodes[i]!.bytes.weights / 1024 ** 2;
        const mib = placed.modelMiB.get(node.localPort!);
        assert.ok(
          mib !== undefined && Math.abs(mib - want) < 0.01 + want * 0.02,
          `${name}: llama.cpp put ${mib} MiB of weights there, Orchard predicted ${want.toFixed(3)} MiB`,
        );
        assert.ok(
          node.measured && Math.abs(node.measured.model / 1024 ** 2 - mib) < 0.01,
          'the head reports what llama.cpp allocated per node',
        );
      }

      // Through Orchard's API, as the UI and other apps reach an app's service.
      const settings = JSON.parse(await readFile(path.join(headHome, 'orchard.json'), 'utf8')) as { token: string };
      const server = JSON.parse(await readFile(path.join(headHome, 'server.json'), 'utf8')) as { port: number };
      const viaApi = new OpenAI({
        baseURL: `http://127.0.0.1:${server.port}/api/v1/apps/cluster-tiny/service/v1`,
        apiKey: settings.token,
        maxRetries: 0,
        timeout: 30_000,
      });
      const first = await viaApi.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 8, temperature: 0 });
      assert.equal(first.choices[0]?.text, reference, 'greedy output equals the single-node run');

      // An idle client holds a connection to w1's RPC server (it serves one client at a time)…
      const w1 = health.nodes.find((n) => n.name === 'w1')!;
      idle = connect({ host: '127.0.0.1', port: w1.remotePort! });
      idle.on('error', () => undefined); // reset when the group stops that server
      await new Promise((resolve) => idle!.once('connect', resolve));
      // …and w2's RPC server dies: the group restarts as one and answers again.
      const w2 = health.nodes.find((n) => n.name === 'w2')!;
      process.kill(w2.pid!, 'SIGKILL');
      health = await waitHealthy(port, (h) => h.restarts >= 1 && h.status === 'ok');
      assert.match(health.lastFailure ?? '', /w2/, 'status says which node failed');
      assert.notEqual(health.nodes.find((n) => n.name === 'w1')!.remotePort, w1.remotePort, 'a restart uses fresh worker ports');
      const again = await viaApi.completions.create({ model: 'tiny', prompt: PROMPT, max_tokens: 8, temperature: 0 });
      assert.equal(again.choices[0]?.text, reference);
    } finally {
      idle?.destroy();
      const stopped = await runCli(['stop', 'cluster-tiny'], { home: headHome, env: env(), timeoutMs: 60_000 });
      assert.equal(stopped.code, 0, stopped.stderr);
      await stopServer(headHome);
    }
    await delay(500);
    assert.deepEqual(processesMatching(build!.binDir), [], 'no llama-server or ggml-rpc-server left running');
    assert.deepEqual(processesMatching(path.join(headHome, 'cluster', 'id_ed25519')), [], 'no ssh session or tunnel left running');
    assert.deepEqual(processesMatching(`${scratch.dir}/w1 home`), [], 'no worker agent left running');

    // Forgetting hosts: the shared pinned key stays while a host still uses it.
    assert.equal((await runCli(['cluster', 'rm', 'w2'], { home: headHome })).code, 0);
    const left = parseJson<{ hosts: ClusterHost[] }>(await runCli(['cluster', 'ls', '--json'], { home: headHome }));
    assert.deepEqual(
      left.hosts.map((h) => h.name),
      ['w1'],
    );
    assert.match(await readFile(path.join(headHome, 'cluster', 'known_hosts'), 'utf8'), /ssh-ed25519/);
    assert.equal((await runCli(['cluster', 'rm', 'w1'], { home: headHome })).code, 0);
    assert.equal((await readFile(path.join(headHome, 'cluster', 'known_hosts'), 'utf8')).trim(), '');
    assert.equal((await runCli(['cluster', 'rm', 'w1'], { home: headHome })).code, 2, 'an unknown host is a usage error');
  },
);

/** The background server `orchard start` launched: stop it so nothing outlives the test. */
async function stopServer(home: string): Promise<void> {
  const info = await readFile(path.join(home, 'server.json'), 'utf8').then(
    (t) => JSON.parse(t) as { pid: number },
    () => undefined,
  );
  if (!info) return;
  try {
    process.kill(info.pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(info.pid, 0);
    } catch {
      return;
    }
    await delay(100);
  }
  process.kill(info.pid, 'SIGKILL');
}

async function waitHealthy(port: number, ok: (h: Health) => boolean): Promise<Health> {
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
  throw new Error(`the cluster never became healthy: ${JSON.stringify(last)}`);
}

/** The same model and prompt on llama-server alone: the reference text. */
async function singleNodeCompletion(b: LlamaCppBuild, file: string): Promise<string> {
  const port = await freeLoopbackPort();
  const server = execa(b.llamaServer, ['-m', file, '-c', '256', '--host', '127.0.0.1', '--port', String(port)], {
    reject: false,
    stdin: 'ignore',
  });
  try {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
        (r) => r.ok,
        () => false,
      );
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
