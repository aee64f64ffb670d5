import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Verdict } from '../../engine/diagnose/verdict.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { cliEntry, fixturesDir, tempDir } from '../helpers/paths.js';

let tmp: { dir: string; cleanup: () => Promise<void> };
before(async () => {
  tmp = await tempDir();
});
after(() => tmp.cleanup());

const log = (name: string) => path.join(fixturesDir, 'logs', name);

test('orchard diagnose --json < some.log reads stdin and prints the verdict', () => {
  const r = spawnSync(process.execPath, [cliEntry, 'diagnose', '--json'], {
    input: readFileSync(log('llamacpp-metal-amd-33of81.log')),
    env: { ...process.env, ORCHARD_HOME: tmp.dir, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const v = JSON.parse(r.stdout) as Verdict;
  assert.deepEqual([v.backend, v.fallback, v.offload], ['metal', 'partial', { layers: 33, total: 81 }]);
  assert.ok(v.evidence.includes('llm_load_tensors: offloaded 33/81 layers to GPU'));
});

test('orchard diagnose FILE --expect turns a CPU log into a full fallback; bad --expect is a usage error', async () => {
  const cpu = await runCli(['diagnose', log('ollama-openvino-no-compatible-gpus.log'), '--expect', 'cuda', '--json'], { home: tmp.dir });
  assert.deepEqual([parseJson<Verdict>(cpu).backend, parseJson<Verdict>(cpu).fallback], ['cpu', 'full']);
  const human = await runCli(['diagnose', log('torch-rfdetr-mps-fallback.log')], { home: tmp.dir });
  assert.match(human.stdout, /backend: metal {3}fallback: partial/);
  assert.match(human.stdout, /fix: /);
  const bad = await runCli(['diagnose', log('comfyui-2420-mps.log'), '--expect', 'gpu'], { home: tmp.dir });
  assert.equal(bad.code, 2);
  const missing = await runCli(['diagnose', path.join(tmp.dir, 'nope.log'), '--json'], { home: tmp.dir });
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /cannot read the log/);
});

test('orchard doctor --json describes this machine, its budget and the recipes', async () => {
  const r = await runCli(['doctor', '--json'], { home: tmp.dir });
  assert.equal(r.code, 0, r.stderr);
  const report = parseJson<{ machine: { memory: { totalBytes: number } }; accelerators: string[]; budget: { modelBytes: number; kind: string }; recipes: { id: string; ok: boolean }[]; problems: { problem: string; fix: string }[] }>(r);
  assert.ok(report.machine.memory.totalBytes > 0);
  assert.equal(report.accelerators[report.accelerators.length - 1], 'cpu');
  assert.ok(report.budget.modelBytes > 0);
  assert.ok(Array.isArray(report.recipes));
  for (const p of report.problems) assert.ok(p.fix.length > 0, p.problem);
});
