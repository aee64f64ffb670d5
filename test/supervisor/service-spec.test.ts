import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PlannedService } from '../../engine/recipe/plan-types.js';
import { specFromPlannedService, withPort } from '../../engine/supervisor/service-spec.js';

const planned = (over: Partial<PlannedService>): PlannedService => ({
  type: 'llm',
  args: ['--model', '/apps/x/models/m.gguf'],
  cwd: '/apps/x/app',
  env: { LLAMA_LOG: '1' },
  readiness: { http: '/health', timeoutMs: 60000 },
  restart: { policy: 'on-failure', maxRestarts: 3, backoffMs: 1000 },
  stopGraceMs: 5000,
  ...over,
});

test('a bundled service runs `node <cli> service <type> --port {{port}} ...args`', () => {
  const spec = specFromPlannedService(planned({}), {
    cliPath: '/o/engine/cli/main.js',
    logDir: '/apps/x/logs',
    nodePath: '/usr/bin/node',
    baseEnv: { PATH: '/bin' },
  });
  assert.deepEqual(spec.argv, [
    '/usr/bin/node',
    '/o/engine/cli/main.js',
    'service',
    'llm',
    '--port',
    '{{port}}',
    '--model',
    '/apps/x/models/m.gguf',
  ]);
  assert.deepEqual(spec.env, { PATH: '/bin', PORT: '{{port}}', LLAMA_LOG: '1' });
  assert.equal(spec.stopGraceMs, 5000);
  assert.deepEqual(withPort(spec, 4321).argv.slice(4, 6), ['--port', '4321']);
  assert.equal(withPort(spec, 4321).env['PORT'], '4321');
});

test('a command service runs its own argv, with {{port}} filled in anywhere', () => {
  const spec = specFromPlannedService(
    planned({
      type: 'command',
      command: ['/apps/x/env/bin/python', 'main.py', '--listen=127.0.0.1:{{port}}'],
      args: ['--extra'],
      ui: '/ui',
    }),
    { cliPath: '/o/cli.js', logDir: '/l' },
  );
  assert.deepEqual(withPort(spec, 8188).argv, ['/apps/x/env/bin/python', 'main.py', '--listen=127.0.0.1:8188', '--extra']);
  assert.equal(spec.ui, '/ui');
});
