import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { parseIoregAccelerators } from '../../engine/supervisor/ioreg.js';
import { fixturesDir } from '../helpers/paths.js';

const fixture = (name: string): Promise<string> => readFile(path.join(fixturesDir, 'ioreg', name), 'utf8');

test('M1 Pro (AGXAcceleratorG13X, macOS 12.6): utilisation and memory from PerformanceStatistics', async () => {
  // https://github.com/exelban/stats/issues/1094
  const gpus = parseIoregAccelerators(await fixture('m1-pro-agx-g13x.txt'));
  assert.deepEqual(gpus, [
    {
      accelerator: 'AGXAcceleratorG13X',
      deviceUtilizationPercent: 2,
      rendererUtilizationPercent: 2,
      tilerUtilizationPercent: 2,
      inUseSystemMemoryBytes: 340983808,
      allocSystemMemoryBytes: 1214005248,
    },
  ]);
});

test('the "(driver)" sibling key and other dictionaries never feed a value; two nodes give two entries', async () => {
  const real = await fixture('m1-pro-agx-g13x.txt');
  // Keys as newer drivers print them (a "(driver)" variant first), inserted into the real dump.
  const withDriverKey = real.replace('{"TiledSceneBytes"', '{"In use system memory (driver)"=0,"TiledSceneBytes"');
  assert.equal(parseIoregAccelerators(withDriverKey)[0]?.inUseSystemMemoryBytes, 340983808);
  const withAccum = real.replace('"IOGLBundleName"', '"PerformanceStatisticsAccum" = {"Device Utilization %"=99}\n      "IOGLBundleName"');
  assert.equal(parseIoregAccelerators(withAccum)[0]?.deviceUtilizationPercent, 2);
  assert.equal(parseIoregAccelerators(`${real}\n${real}`).length, 2);
  assert.deepEqual(parseIoregAccelerators(''), []);
  // Out-of-range percentages (some Intel drivers report > 100) are dropped, not reported.
  assert.equal(
    parseIoregAccelerators(real.replace('"Device Utilization %"=2', '"Device Utilization %"=140'))[0]?.deviceUtilizationPercent,
    undefined,
  );
});
