import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FOREVER, parseKeepAlive } from '../../engine/gateway/keep-alive.js';
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
