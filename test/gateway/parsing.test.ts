import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { usableMemoryBytes } from '../../engine/gateway/budget.js';
import { FOREVER, parseKeepAlive } from '../../engine/gateway/keep-alive.js';
import { probeMachine } from '../../engine/hardware/probe.js';
import { fixturesDir } from '../helpers/paths.js';
import { originAllowed } from '../../engine/gateway/security.js';
import { effectiveGatewaySettings, normaliseGatewaySettings } from '../../engine/settings/gateway-settings.js';

test('keep_alive as Ollama reads it: durations, seconds, 0 and negatives', () => {
  assert.equal(parseKeepAlive('5m'), 300_000);
  assert.equal(parseKeepAlive('1h30m'), 5_400_000);
  assert.equal(parseKeepAlive('1.5s'), 1500);
  assert.equal(parseKeepAlive('300ms'), 300);
  assert.equal(parseKeepAlive(30), 30_000, 'a number is seconds');
  assert.equal(parseKeepAlive('30'), 30_000, 'so is a bare number in a string');
  assert.equal(parseKeepAlive(0), 0);
  assert.equal(parseKeepAlive('0'), 0);
  assert.equal(parseKeepAlive(-1), FOREVER);
  assert.equal(parseKeepAlive('-1m'), FOREVER);
  for (const bad of ['5 minutes', '', 'm', true, null]) assert.throws(() => parseKeepAlive(bad), /keep_alive/);
});

test('origins: loopback pages are allowed, others only when listed (with * wildcards)', () => {
  assert.ok(originAllowed('http://localhost:3000', []));
  assert.ok(originAllowed('http://127.0.0.1:8080', []));
  assert.ok(!originAllowed('https://evil.example', []));
  assert.ok(!originAllowed('http://localhost.evil.example', []), 'a look-alike host is not loopback');
  assert.ok(originAllowed('https://chat.example.org', ['https://chat.example.org']));
  assert.ok(!originAllowed('https://chat.example.org.evil.example', ['https://chat.example.org']));
  assert.ok(originAllowed('app://obsidian.md', ['app://*']));
  assert.ok(originAllowed('vscode-webview://abc123', ['vscode-webview://*']));
  assert.ok(!originAllowed('https://a.example/evil', ['https://a.example*']), 'a wildcard never crosses a slash');
});

test('gateway settings: malformed fields are dropped, the environment wins', () => {
  assert.deepEqual(
    normaliseGatewaySettings({
      port: 'x',
      apiKey: ' k ',
      origins: ['a', 3],
      keepAlive: '10m',
      memoryBudgetBytes: -1,
      apps: { m: { alias: 'bad alias!', keepAlive: 0 } },
    }),
    {
      apiKey: 'k',
      origins: ['a'],
      keepAlive: '10m',
      apps: { m: { keepAlive: 0 } },
    },
  );
  assert.equal(normaliseGatewaySettings('nope'), undefined);
  const env = {
    ORCHARD_GATEWAY_PORT: '12000',
    ORCHARD_GATEWAY_ORIGINS: 'https://x.example, app://*',
    ORCHARD_GATEWAY_KEEP_ALIVE: '-1',
    ORCHARD_GATEWAY_MEMORY_BYTES: '1000',
  };
  assert.deepEqual(effectiveGatewaySettings({ port: 11500, origins: ['https://y.example'] }, env), {
    port: 12000,
    origins: ['https://y.example', 'https://x.example', 'app://*'],
    keepAlive: '-1',
    memoryBudgetBytes: 1000,
  });
});

const GiB = 1024 ** 3;
const fixture = (name: string): string => readFileSync(path.join(fixturesDir, 'hardware', name), 'utf8');

test('the default budget: the GPU working set on Apple Silicon, RAM less the OS reserve on a CPU machine', async () => {
  const mac = (extra: string) =>
    probeMachine({
      platform: 'darwin',
      arch: 'arm64',
      cpus: () => [],
      run: async (file) => {
        const outputs: Record<string, string> = {
          sysctl: `${fixture('sysctl-travis-vm.txt').replace('8589934592', String(48 * GiB))}${fixture('sysctl-machdep-m1.txt')}${extra}`,
          system_profiler: fixture('system-profiler-m3pro-truncated.json.txt'),
        };
        return file in outputs ? { ok: true, stdout: outputs[file] ?? '' } : { ok: false, stdout: '' };
      },
    });
  assert.equal(usableMemoryBytes(await mac('')), 36 * GiB, "Metal's default working set: 3/4 of 48 GiB");
  assert.equal(usableMemoryBytes(await mac(fixture('sysctl-wired-limit-set.txt'))), 26000 * 1024 ** 2, 'iogpu.wired_limit_mb when set');
  const linux = await probeMachine({
    platform: 'linux',
    arch: 'x64',
    readText: async () => fixture('meminfo-16gb.txt'),
    run: async () => ({ ok: false, stdout: '' }),
  });
  assert.equal(usableMemoryBytes(linux), 16268680 * 1024 - 4 * GiB, 'CPU only: RAM less 4 GiB for the OS');
});
