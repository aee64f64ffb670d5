import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseMeminfo } from '../../engine/hardware/meminfo.js';
import { parseNvidiaSmiCsv, parseNvidiaSmiTable } from '../../engine/hardware/nvidia-smi.js';
import { probeMachine } from '../../engine/hardware/probe.js';
import { macSysctlFacts, parseSysctl } from '../../engine/hardware/sysctl.js';
import { parseDisplays } from '../../engine/hardware/system-profiler.js';
import { parseVulkanSummary } from '../../engine/hardware/vulkaninfo.js';
import { gpuWorkingSetBytes, recommendedWiredLimit } from '../../engine/hardware/working-set.js';
import { fixturesDir } from '../helpers/paths.js';

const GiB = 1024 ** 3;
const fixture = (name: string) => readFileSync(path.join(fixturesDir, 'hardware', name), 'utf8');

test('every hardware fixture has its source beside it', () => {
  const index = JSON.parse(fixture('index.json')) as { fixtures: Record<string, { source: string }> };
  for (const [name, meta] of Object.entries(index.fixtures)) {
    assert.ok(meta.source.length > 10, name);
    assert.ok(fixture(name).length > 0, name);
  }
});

test('sysctl: memory, CPU, cores, and the wired limit set line', () => {
  assert.equal(macSysctlFacts(parseSysctl(fixture('sysctl-travis-vm.txt'))).memBytes, 8589934592);
  const m1 = macSysctlFacts(parseSysctl(fixture('sysctl-machdep-m1.txt')));
  assert.equal(m1.cpuBrand, 'Apple M1');
  assert.equal(m1.cpuCores, 8);
  assert.equal(macSysctlFacts(parseSysctl(fixture('sysctl-m1pro-hw.txt'))).cpuCores, 10);
  assert.equal(macSysctlFacts(parseSysctl(fixture('sysctl-wired-limit-set.txt'))).wiredLimitMb, 26000);
});

test('system_profiler: JSON cut off by the thread, old Apple item names, and the text form', () => {
  const m3 = parseDisplays(fixture('system-profiler-m3pro-truncated.json.txt'));
  assert.equal(m3.length, 1, 'the displays nested below the GPU are not GPUs');
  assert.deepEqual([m3[0]?.name, m3[0]?.vendor, m3[0]?.api, m3[0]?.backends], ['Apple M3 Pro', 'apple', 'Metal 3', ['metal']]);
  const m1 = parseDisplays(fixture('system-profiler-m1-truncated.json.txt'));
  assert.deepEqual([m1[0]?.name, m1[0]?.backends], ['Apple M1', ['metal']]);
  const vega = parseDisplays(fixture('system-profiler-vega64.txt'));
  assert.deepEqual(
    [vega[0]?.name, vega[0]?.vendor, vega[0]?.vramBytes, vega[0]?.backends],
    ['Radeon Pro Vega 64', 'amd', 16 * GiB, ['metal']],
  );
});

test('/proc/meminfo with and without MemAvailable', () => {
  assert.deepEqual(parseMeminfo(fixture('meminfo-16gb.txt')), { totalBytes: 16268680 * 1024, availableBytes: 8366284 * 1024 });
  assert.deepEqual(parseMeminfo(fixture('meminfo-openwrt-no-available.txt')), {
    totalBytes: 125128 * 1024,
    availableBytes: (80288 + 7652 + 21700) * 1024,
  });
});

test('nvidia-smi: query CSV with any field list, and the plain table', () => {
  const free = parseNvidiaSmiCsv(fixture('nvidia-smi-name-free.csv'), ['gpu_name', 'memory.free']);
  assert.deepEqual(
    free.map((g) => [g.name, g.vramFreeBytes]),
    [
      ['NVIDIA GeForce GTX 1050 Ti', 2131 * 1024 ** 2],
      ['NVIDIA GeForce RTX 3080 Ti', 16000 * 1024 ** 2],
    ],
  );
  assert.equal(
    parseNvidiaSmiCsv(fixture('nvidia-smi-name-compute-cap.csv'), ['name', 'compute_cap'])[0]?.api,
    'CUDA compute capability 8.9',
  );
  assert.equal(parseNvidiaSmiCsv(fixture('nvidia-smi-name-driver.csv'), ['name', 'driver_version'])[0]?.driver, '550.54.14');
  const table = parseNvidiaSmiTable(fixture('nvidia-smi-plain-gtx680.txt'));
  assert.deepEqual(
    table.map((g) => [g.name, g.driver, g.vramBytes, g.vramFreeBytes]),
    [
      ['GeForce GTX 680', '331.62', 4095 * 1024 ** 2, 4086 * 1024 ** 2],
      ['GeForce GTX 680', '331.62', 4095 * 1024 ** 2, 4086 * 1024 ** 2],
    ],
  );
});

test('vulkaninfo: GPUs from --summary, software devices dropped', () => {
  const gpus = parseVulkanSummary(fixture('vulkaninfo-summary-intel-amd.txt'));
  assert.deepEqual(
    gpus.map((g) => [g.name, g.vendor, g.driver]),
    [
      ['Intel(R) HD Graphics 530', 'intel', 'Intel Corporation'],
      ['AMD Radeon (TM) R9 380 Series', 'amd', 'AMD proprietary driver'],
    ],
  );
  assert.deepEqual(parseVulkanSummary(fixture('vulkaninfo-llvmpipe-cpu.txt')), []);
});

test('GPU working set: estimate from RAM unless iogpu.wired_limit_mb is set; recommended limit and its command', () => {
  // The estimate reproduces the recommendedMaxWorkingSetSize ggml printed on real machines.
  assert.equal(Math.round(gpuWorkingSetBytes(16 * GiB, 0).bytes / 1e4) / 100, 11453.25);
  assert.equal(Math.round(gpuWorkingSetBytes(24 * GiB, undefined).bytes / 1e4) / 100, 17179.87);
  assert.equal(Math.round(gpuWorkingSetBytes(48 * GiB, 0).bytes / 1e4) / 100, 38654.71);
  assert.deepEqual(gpuWorkingSetBytes(32 * GiB, 26000), { bytes: 26000 * 1024 ** 2, source: 'iogpu.wired_limit_mb' });
  const big = recommendedWiredLimit(256 * GiB);
  assert.equal(big.command, `sudo sysctl iogpu.wired_limit_mb=${big.mb}`);
  assert.equal(big.mb, 230 * 1024);
  assert.match(big.risk, /reboot/);
  assert.equal(recommendedWiredLimit(16 * GiB).mb, 8 * 1024);
});

test('probeMachine on a Mac, fed the captured outputs', async () => {
  const outputs: Record<string, string> = {
    sysctl: `${fixture('sysctl-travis-vm.txt').replace('8589934592', String(48 * GiB))}${fixture('sysctl-machdep-m1.txt')}`,
    system_profiler: fixture('system-profiler-m3pro-truncated.json.txt'),
  };
  const m = await probeMachine({
    platform: 'darwin',
    arch: 'arm64',
    run: async (file) =>
      file in outputs ? { ok: true, stdout: outputs[file] ?? '' } : { ok: false, stdout: '', note: `${file}: not found` },
    cpus: () => [],
  });
  assert.equal(m.memory.totalBytes, 48 * GiB);
  assert.equal(m.cpu.brand, 'Apple M1');
  assert.equal(m.unifiedMemory, true);
  assert.deepEqual(m.accelerators, ['metal', 'cpu']);
  assert.equal(m.macos?.gpuWorkingSetBytes, 36 * GiB);
});

test('probeMachine on Linux with an NVIDIA GPU and Vulkan, fed the captured outputs', async () => {
  const m = await probeMachine({
    platform: 'linux',
    arch: 'x64',
    readText: async () => fixture('meminfo-16gb.txt'),
    run: async (file, args) => {
      if (file === 'nvidia-smi' && args[0]?.startsWith('--query-gpu'))
        return { ok: true, stdout: 'NVIDIA GeForce RTX 4090, 24564, 23012, 550.54.14, 8.9\n' };
      if (file === 'vulkaninfo') return { ok: true, stdout: fixture('vulkaninfo-summary-intel-amd.txt') };
      return { ok: false, stdout: '' };
    },
  });
  assert.equal(m.memory.totalBytes, 16268680 * 1024);
  assert.deepEqual(m.accelerators, ['cuda', 'vulkan', 'cpu']);
  assert.equal(m.gpus[0]?.vramBytes, 24564 * 1024 ** 2);
  assert.equal(m.gpus.length, 3);
});

test('probeMachine on this machine answers without throwing and ends with cpu', async () => {
  const m = await probeMachine();
  assert.equal(m.accelerators[m.accelerators.length - 1], 'cpu');
  assert.ok(m.memory.totalBytes > 0);
  assert.ok(m.sources.length > 0);
});
