import assert from 'node:assert/strict';
import { cp, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { AppSummary, ServiceStatus } from '../../engine/api/api-types.js';
import { parseJson, runCli } from '../helpers/cli.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

let home: string;
let recipeDir: string;
let cleanup: () => Promise<void>;

before(async () => {
  const { dir, cleanup: c } = await tempDir('orchard api cli ');
  cleanup = c;
  home = path.join(dir, 'Orchard Home');
  recipeDir = path.join(dir, 'my recipes', 'api-app');
  await cp(path.join(repoRoot, 'test', 'api', 'fixtures', 'api-app'), recipeDir, { recursive: true });
});

after(async () => {
  // Never leave the background server behind.
  const info = await readFile(path.join(home, 'server.json'), 'utf8').then(
    (t) => JSON.parse(t) as { pid: number },
    () => undefined,
  );
  if (info) {
    try {
      process.kill(info.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    for (let i = 0; i < 50 && alive(info.pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (alive(info.pid)) process.kill(info.pid, 'SIGKILL');
  }
  await cleanup();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('status and stop without a server say nothing runs; start launches the server in the background', async () => {
  const none = await runCli(['status', '--json'], { home });
  assert.equal(none.code, 0, none.stderr);
  assert.deepEqual(parseJson<{ server: null; apps: unknown[] }>(none), { ok: true, server: null, apps: [] });
  const stop = await runCli(['stop', 'api-app'], { home });
  assert.equal(stop.code, 1, 'stopping an app that is not installed is an error');
  assert.match(stop.stderr, /^error: api-app is not installed\n/);

  // Install with the CLI (no server involved), then start through the server the CLI launches.
  const install = await runCli(['install', recipeDir, '--json'], { home, timeoutMs: 60_000 });
  assert.equal(install.code, 0, install.stderr + install.stdout);
  // Installed from a recipe file outside the catalog: `list` still shows it, with where it came from.
  const listed = parseJson<{ recipes: { id: string; source: string; file: string; installed: string }[] }>(
    await runCli(['list', '--json'], { home }),
  );
  assert.deepEqual(
    listed.recipes.filter((r) => r.id === 'api-app').map((r) => [r.source, r.file, r.installed]),
    [['file', path.join(recipeDir, 'recipe.json'), 'installed']],
  );
  assert.match((await runCli(['list'], { home })).stdout, /api-app .*\[installed\].*\(from .*recipe\.json\)/);

  const start = await runCli(['start', 'api-app'], { home, timeoutMs: 60_000 });
  assert.equal(start.code, 0, start.stderr + start.stdout);
  assert.match(start.stderr, /started one in the background/);
  assert.match(start.stdout, /api-app: ready at http:\/\/127\.0\.0\.1:\d+\//);

  const settings = JSON.parse(await readFile(path.join(home, 'orchard.json'), 'utf8')) as { token: string };
  const serverLog = await readFile(path.join(home, 'logs', 'server.log'), 'utf8');
  assert.ok(!serverLog.includes(settings.token), 'the background server never writes its token to its log');
  assert.equal((await stat(path.join(home, 'logs', 'server.log'))).mode & 0o777, 0o600);

  const status = await runCli(['status', 'api-app', '--json'], { home });
  assert.equal(status.code, 0, status.stderr);
  const summary = parseJson<AppSummary & { server: string }>(status);
  assert.equal(summary.service.state, 'ready');
  assert.match(summary.server, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok('verdict' in summary || summary.verdict === undefined, 'status --json carries the verdict field when known');

  const logs = await runCli(['logs', 'api-app', '-n', '20'], { home });
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /api-app listening on \d+/);

  // `serve --detach` with a server running reports the same server with the token URL.
  const detach = await runCli(['serve', '--detach', '--no-open'], { home });
  assert.equal(detach.code, 0, detach.stderr);
  assert.match(detach.stdout, new RegExp(`#token=${settings.token}`));
  assert.match(detach.stdout, /already running/);

  const stopped = await runCli(['stop', 'api-app', '--json'], { home });
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.equal(parseJson<{ service: ServiceStatus }>(stopped).service.state, 'stopped');

  const unknown = await runCli(['start', 'nothing-here', '--json'], { home });
  assert.equal(unknown.code, 1);
  assert.equal(parseJson<{ ok: false; error: { code: string } }>(unknown).error.code, 'NOT_INSTALLED');

  // The rough edges: each one clear message, exit 1, and no API route in sight.
  const stopAgain = await runCli(['stop', 'api-app'], { home });
  assert.equal(stopAgain.code, 0, stopAgain.stderr);
  assert.equal(stopAgain.stdout, 'api-app is not running; nothing to stop.\n');
  const stopAgainJson = parseJson<{ wasRunning: boolean }>(await runCli(['stop', 'api-app', '--json'], { home }));
  assert.equal(stopAgainJson.wasRunning, false);
  const cases: [string[], RegExp][] = [
    [['start', 'nothing-here'], /^error: nothing-here is not installed\n/],
    [['stop', 'nothing-here'], /^error: nothing-here is not installed\n/],
    [['logs', 'nothing-here'], /^error: nothing-here is not installed\n/],
    [['uninstall', 'nothing-here'], /^error: nothing-here is not installed, so there is nothing to uninstall\n/],
  ];
  for (const [args, message] of cases) {
    const result = await runCli(args, { home });
    assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, /\/api\/v1|POST|GET /, `${args.join(' ')} leaks no API route`);
    assert.doesNotMatch(result.stderr, /install it first/i);
    assert.equal(result.stdout, '');
  }
  const logsJson = await runCli(['logs', 'api-app', '--json', '-n', '5'], { home });
  assert.equal(logsJson.code, 0, logsJson.stderr);
  assert.ok(Array.isArray(parseJson<{ lines: string[] }>(logsJson).lines));
  const badTail = await runCli(['logs', 'api-app', '-n', 'many'], { home });
  assert.equal(badTail.code, 2, 'a bad number is a usage error');
  assert.match(badTail.stderr, /--tail must be a whole number, got "many"/);
});
