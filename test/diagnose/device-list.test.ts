import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { deviceListVerdict, parseDeviceList } from '../../engine/diagnose/probes/sdcpp.js';
import { fixturesDir } from '../helpers/paths.js';

test('ggml device lists: the llama-server form from a real thread, and NAME<TAB>description lines', () => {
  const real = parseDeviceList(readFileSync(path.join(fixturesDir, 'hardware', 'sdcpp-list-devices-mtl.txt'), 'utf8'));
  assert.deepEqual(real, [{ name: 'MTL0', description: 'Apple M1 Max (26000 MiB, 25999 MiB free)', backend: 'metal' }]);
  assert.deepEqual([deviceListVerdict(real, 'metal').backend, deviceListVerdict(real, 'metal').fallback], ['metal', 'none']);

  const tabbed = parseDeviceList('CUDA0\tNVIDIA GeForce RTX 4090\nCPU\tAMD Ryzen 9 7950X\n');
  assert.deepEqual(
    tabbed.map((d) => d.backend),
    ['cuda', 'cpu'],
  );
  const cpuOnly = deviceListVerdict(parseDeviceList('CPU\tIntel(R) Xeon(R)\n'), 'metal');
  assert.deepEqual([cpuOnly.backend, cpuOnly.fallback], ['cpu', 'full']);
  assert.match(cpuOnly.advice.join(' '), /-DSD_METAL=ON/);
  assert.equal(deviceListVerdict([], 'cuda').backend, 'unknown');
});

test("llama-server without a GPU backend (this machine's CPU build, real output): cpu; a full fallback when a GPU was expected", () => {
  const output = readFileSync(path.join(fixturesDir, 'hardware', 'llama-server-list-devices-cpu-only.txt'), 'utf8');
  assert.deepEqual(parseDeviceList(output), []);
  const expectedCpu = deviceListVerdict([], 'cpu', output);
  assert.deepEqual([expectedCpu.backend, expectedCpu.fallback], ['cpu', 'none']);
  const expectedMetal = deviceListVerdict([], 'metal', output);
  assert.deepEqual([expectedMetal.backend, expectedMetal.fallback], ['cpu', 'full']);
  assert.match(expectedMetal.advice.join(' '), /-DGGML_METAL=ON/);
});
