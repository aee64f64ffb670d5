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

test(
  'orchard diagnose FILE --expect: exit 0 when the backend was used, 3 when not (stating the evidence), 4 when the log does ' + 'not say',
  async () => {
    const cpu = await runCli(['diagnose', log('ollama-openvino-no-compatible-gpus.log'), '--expect', 'cuda', '--json'], { home: tmp.dir });
    assert.equal(cpu.code, 3, cpu.stderr);
    assert.deepEqual([parseJson<Verdict>(cpu).backend, parseJson<Verdict>(cpu).fallback], ['cpu', 'full']);
    assert.match(cpu.stderr, /expected cuda: not used — the work runs on the CPU\. Evidence: /);

    const used = await runCli(['diagnose', log('ollama-2266-cuda-33of33-three-gpus.log'), '--expect', 'cuda'], { home: tmp.dir });
    assert.equal(used.code, 0, used.stdout);
    assert.match(used.stdout, /expected cuda: used\./);
    const partly = await runCli(['diagnose', log('torch-rfdetr-mps-fallback.log'), '--expect', 'metal'], { home: tmp.dir });
    assert.equal(partly.code, 0);
    assert.match(partly.stdout, /backend: metal {3}fallback: partial/);
    assert.match(partly.stdout, /expected metal: used \(partly/);
    const other = await runCli(['diagnose', log('llamanode-99-layers-vulkan0.log'), '--expect', 'cuda'], { home: tmp.dir });
    assert.equal(other.code, 3);
    assert.match(other.stdout, /expected cuda: not used — the log shows vulkan\. Evidence: load_tensors: layer/);
    const silent = spawnSync(process.execPath, [cliEntry, 'diagnose', '-', '--expect', 'cuda'], {
      input: 'hello\nworld\n',
      env: { ...process.env, ORCHARD_HOME: tmp.dir, NO_COLOR: '1' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(silent.status, 4, silent.stdout);
    assert.match(silent.stdout, /does not show which backend ran/);

    const bad = await runCli(['diagnose', log('comfyui-2420-mps.log'), '--expect', 'gpu'], { home: tmp.dir });
    assert.equal(bad.code, 2);
    const missing = await runCli(['diagnose', path.join(tmp.dir, 'nope.log'), '--json'], { home: tmp.dir });
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /cannot read the log/);
  },
);

test('advice follows the evidence: driver, CPU-only wheel, layer count, --cpu flag, memory limit (wired limit on macOS only)', async () => {
  const advice = async (file: string, expect: string) => {
    const r = await runCli(['diagnose', log(file), '--expect', expect, '--json'], { home: tmp.dir });
    return { code: r.code, v: parseJson<Verdict>(r), text: parseJson<Verdict>(r).advice.join(' ') };
  };
  // "no CUDA-capable device is detected" with "offloaded 13/33 layers": the driver, not -ngl (issue 18).
  const driver = await advice('cortex-1470-no-cuda-capable-13of33.log', 'cuda');
  assert.equal(driver.code, 3);
  assert.deepEqual([driver.v.backend, driver.v.fallback], ['cpu', 'full']);
  assert.match(driver.text, /driver and toolkit/);
  assert.doesNotMatch(driver.text, /-ngl/);
  assert.ok(
    driver.v.evidence.some((e) => e.includes('no CUDA-capable device is detected')),
    driver.v.evidence.join('\n'),
  );

  const wheel = await advice('torch-detectron2-not-compiled-cuda.log', 'cuda');
  assert.equal(wheel.code, 3);
  assert.match(wheel.text, /CPU-only torch wheel/);
  assert.doesNotMatch(wheel.text, /-ngl|driver/);

  const layers = await advice('llamacpp-cuda-0of33-h800.log', 'cuda');
  assert.equal(layers.code, 3);
  assert.match(layers.text, /0 of 33.*-ngl 999/);
  assert.doesNotMatch(layers.text, /driver/);

  const flag = await advice('comfyui-cpu-flag-cu130.log', 'cuda');
  assert.equal(flag.code, 3);
  assert.match(flag.text, /remove the flag/);
  assert.doesNotMatch(flag.text, /-ngl|driver|wheel/);

  const cudaMemory = await advice('ollama-11819-offload-cuda-48of49.log', 'cuda');
  assert.equal(cudaMemory.code, 0);
  assert.match(cudaMemory.text, /Only 48 of 49 layers.*smaller quantisation/);
  assert.doesNotMatch(cudaMemory.text, /wired_limit|macOS/);
  const macMemory = await advice('mflux-145-metal-insufficient-memory.log', 'metal');
  assert.equal(macMemory.code, 0);
  assert.match(macMemory.text, /iogpu\.wired_limit_mb/);
});

test('orchard doctor --json describes this machine, its budget and the recipes', async () => {
  const r = await runCli(['doctor', '--json'], { home: tmp.dir });
  assert.equal(r.code, 0, r.stderr);
  const report = parseJson<{
    machine: { memory: { totalBytes: number } };
    accelerators: string[];
    budget: { modelBytes: number; kind: string };
    recipes: { id: string; ok: boolean }[];
    problems: { problem: string; fix: string }[];
  }>(r);
  assert.ok(report.machine.memory.totalBytes > 0);
  assert.equal(report.accelerators[report.accelerators.length - 1], 'cpu');
  assert.ok(report.budget.modelBytes > 0);
  assert.ok(Array.isArray(report.recipes));
  for (const p of report.problems) assert.ok(p.fix.length > 0, p.problem);
});
