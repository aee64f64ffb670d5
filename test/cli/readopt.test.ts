import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { parseJson, runCli } from '../helpers/cli.js';
import { cliEntry, repoRoot, tempDir } from '../helpers/paths.js';

interface StatusJson {
  server: string | null;
  service: { state: string; pid?: number; port?: number; message?: string };
}

function serve(home: string): ChildProcess {
  return spawn(process.execPath, [cliEntry, 'serve', '--port', '0', '--no-open'], {
    env: { ...process.env, ORCHARD_HOME: home },
    stdio: 'ignore',
  });
}

async function waitForServer(home: string, pid: number | undefined): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const info = await readFile(path.join(home, 'server.json'), 'utf8').then(
      (t) => JSON.parse(t) as { pid: number },
      () => undefined,
    );
    if (info?.pid === pid) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server ${pid} did not start`);
}

async function sigkill(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

function httpOk(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/health', timeout: 3000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** Live processes running this test's service script (by its path: unique to this temp folder). */
/**
 * Instances of the service: processes running `script`, counted once per launch. A confined service
 * is bwrap → bwrap (the sandbox's init) → node, each with the script in its argv: only the
 * outermost, whose parent is not one of them, is the instance (and the pid the supervisor knows).
 */
async function instances(script: string): Promise<number[]> {
  const found = new Map<number, number>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const after = stat.slice(stat.lastIndexOf(')') + 2);
    const [state, ppid] = after.split(' ');
    if (cmdline.split('\0').includes(script) && state !== 'Z') found.set(Number(name), Number(ppid));
  }
  return [...found].filter(([, ppid]) => !found.has(ppid)).map(([pid]) => pid);
}

/** Alive and not a zombie (an orphan is reaped by whoever adopted it, maybe later). */
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

test('a server killed with SIGKILL: its app keeps running, status says so, the next server re-adopts it (same pid, one instance) ' +
  'and stop works', {
  skip: process.platform !== 'linux',
}, async () => {
  const { dir, cleanup } = await tempDir();
  const home = path.join(dir, 'home');
  const recipeDir = path.join(dir, 'recipe');
  const script = path.join(recipeDir, 'service.mjs');
  const servers: ChildProcess[] = [];
  let appPid: number | undefined;
  try {
    await mkdir(recipeDir, { recursive: true });
    await copyFile(path.join(repoRoot, 'test', 'supervisor', 'fixtures', 'service.mjs'), script);
    await writeFile(
      path.join(recipeDir, 'recipe.json'),
      JSON.stringify({
        id: 'survivor',
        name: 'Survivor',
        version: '1.0.0',
        kind: 'tool',
        install: [],
        service: {
          type: 'command',
          command: ['node', '{{recipe.dir}}/service.mjs', '--port', '{{port}}', '--tick', '100'],
          readiness: { http: '/health', timeout: 20 },
        },
      }),
    );
    const installed = await runCli(['install', recipeDir], { home });
    assert.equal(installed.code, 0, installed.stderr);

    servers.push(serve(home));
    await waitForServer(home, servers[0]!.pid);
    const started = parseJson<{ service: { state: string; pid: number; port: number } }>(
      await runCli(['start', 'survivor', '--json'], { home }),
    );
    assert.equal(started.service.state, 'ready');
    appPid = started.service.pid;
    const port = started.service.port;
    assert.deepEqual(await instances(script), [appPid]);

    // The server dies without any chance to clean up.
    await sigkill(servers[0]!);
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(isAlive(appPid), 'the app outlives the server');
    assert.ok(await httpOk(port), 'and still answers (its output does not go to a broken pipe)');
    const between = parseJson<StatusJson>(await runCli(['status', 'survivor', '--json'], { home }));
    assert.equal(between.server, null);
    assert.equal(between.service.state, 'ready', 'status tells the truth while no server runs');
    assert.equal(between.service.pid, appPid);
    assert.match(between.service.message ?? '', /re-adopted/);
    const offlineLogs = await runCli(['logs', 'survivor', '--tail', '50'], { home });
    assert.equal(offlineLogs.code, 0, offlineLogs.stderr);
    const maxTick = (text: string): number => Math.max(0, ...[...text.matchAll(/^tick (\d+)$/gm)].map((m) => Number(m[1])));
    const logDir = path.join(home, 'apps', 'survivor', 'logs');
    const logFile = (await readdir(logDir)).find((f) => f.startsWith('service-') && f.endsWith('.log'));
    const written = await readFile(path.join(logDir, logFile ?? 'none'), 'utf8');
    assert.ok(maxTick(offlineLogs.stdout) > maxTick(written), 'logs without a server show what it printed since the crash');

    // The next server takes it over instead of starting another one.
    servers.push(serve(home));
    await waitForServer(home, servers[1]!.pid);
    const after = parseJson<StatusJson>(await runCli(['status', 'survivor', '--json'], { home }));
    assert.notEqual(after.server, null);
    assert.equal(after.service.state, 'ready');
    assert.equal(after.service.pid, appPid, 'the same process, re-adopted');
    const again = parseJson<{ service: { state: string; pid: number } }>(await runCli(['start', 'survivor', '--json'], { home }));
    assert.equal(again.service.pid, appPid, 'start does not launch a duplicate');
    assert.deepEqual(await instances(script), [appPid], 'exactly one instance runs');

    // Its output still reaches Orchard: ticks printed after the re-adoption show in the logs.
    await new Promise((r) => setTimeout(r, 600));
    const logs = await runCli(['logs', 'survivor', '--tail', '400'], { home });
    assert.match(logs.stdout, new RegExp(`re-adopted process ${appPid}`));
    const lines = logs.stdout.split('\n');
    const adoptedAt = lines.findIndex((l) => l.includes('re-adopted process'));
    assert.ok(
      lines.slice(adoptedAt + 1).some((l) => /^tick \d+$/.test(l)),
      'lines printed after the re-adoption arrive',
    );

    // Health checks keep running on the adopted process, and stop ends it.
    const stopped = parseJson<{ service: { state: string } }>(await runCli(['stop', 'survivor', '--json'], { home }));
    assert.equal(stopped.service.state, 'stopped');
    assert.equal(isAlive(appPid), false, 'stop ended the adopted process');
    assert.equal(existsSync(path.join(home, 'run', 'survivor.json')), false, 'its run record is gone');

    // Once more, and this time stop it while no server runs.
    const second = parseJson<{ service: { pid: number } }>(await runCli(['start', 'survivor', '--json'], { home }));
    appPid = second.service.pid;
    await sigkill(servers[1]!);
    const offline = await runCli(['stop', 'survivor'], { home });
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stdout, /stopped/);
    assert.equal(isAlive(appPid), false, 'stop without a server ends the recorded app');
    assert.deepEqual(await instances(script), []);
  } finally {
    for (const s of servers) if (s.exitCode === null && s.signalCode === null) await sigkill(s);
    for (const pid of await instances(script)) process.kill(pid, 'SIGKILL');
    await cleanup();
  }
});
