import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { WebSocket } from 'ws';
import { appSummary } from '../../api/app-summary.js';
import { type ApiClient, connectToServer } from '../../api/client.js';
import type { AppSummary, ServerMessage, ServiceStatus } from '../../api/api-types.js';
import { OrchardError } from '../../core/errors.js';
import { appPaths, resolveHome, type OrchardHome } from '../../core/home.js';
import type { AppState } from '../../install/app-state.js';
import { readAppState, requireAppState } from '../../install/state-store.js';
import { action, onStdoutClosed, printJson, printLine } from '../output.js';
import { launchDetached } from './serve.js';
import { liveRunRecord, runRecordDir, stopRecordedRun, type RunRecord } from '../../supervisor/index.js';

/**
 * `orchard start|stop|status|logs`: the services run inside the `orchard serve` process (one
 * supervisor per machine user and ORCHARD_HOME), so these commands talk to it over its API.
 */
export function register(program: Command): void {
  program
    .command('start <id>')
    .description("Start an installed app's service (starts the Orchard server in the background when none runs)")
    .option('--no-wait', 'return once it is launched, without waiting until it is ready')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (id: string, flags: { wait: boolean; json?: boolean }) => {
        const home = resolveHome();
        await requireAppState(home, id); // an unknown app is an error here, before any server is launched
        const client = await serverOrLaunch(home, flags.json === true);
        const { value } = await client.request<ServiceStatus>(
          'POST',
          `/apps/${encodeURIComponent(id)}/start${flags.wait ? '?wait=ready' : ''}`,
          {},
        );
        if (flags.json) printJson({ ok: true, app: id, service: value });
        else printLine(describeService(id, value));
      }),
    );

  program
    .command('stop <id>')
    .description("Stop an app's service and its whole process tree")
    .option('--json', 'print the result as JSON')
    .action(
      action(async (id: string, flags: { json?: boolean }) => {
        const home = resolveHome();
        await requireAppState(home, id);
        const client = await connectToServer(home);
        if (client) {
          const before = (await client.request<AppSummary>('GET', `/apps/${encodeURIComponent(id)}`)).value.service;
          const wasRunning = before !== undefined && before.state !== 'stopped' && before.state !== 'crashed';
          const value: ServiceStatus = wasRunning
            ? (await client.request<ServiceStatus>('POST', `/apps/${encodeURIComponent(id)}/stop`, {})).value
            : { state: 'stopped', restarts: 0 };
          if (flags.json) printJson({ ok: true, app: id, wasRunning, service: value });
          else printLine(wasRunning ? describeService(id, value) : `${id} is not running; nothing to stop.`);
          return;
        }
        // No server (it crashed): the app may still run, recorded for re-adoption. Stop it from here.
        const stopped = await stopRecordedRun(runRecordDir(home), id);
        const value: ServiceStatus = { state: 'stopped', restarts: stopped?.restarts ?? 0 };
        if (flags.json) printJson({ ok: true, app: id, wasRunning: stopped !== undefined, service: value });
        else
          printLine(
            stopped
              ? `${id}: stopped (pid ${stopped.pid}; no Orchard server was running)`
              : `${id} is not running (no Orchard server runs); nothing to stop.`,
          );
      }),
    );

  program
    .command('status [id]')
    .description('Show whether apps run, their port, restarts and the backend verdict')
    .option('--json', 'print the result as JSON')
    .action(
      action(async (id: string | undefined, flags: { json?: boolean }) => {
        const home = resolveHome();
        const client = await connectToServer(home);
        if (id !== undefined) {
          const app = client
            ? (await client.request<AppSummary>('GET', `/apps/${encodeURIComponent(id)}`)).value
            : await offlineSummary(home, id);
          if (flags.json) printJson({ ok: true, server: client ? client.baseUrl : null, ...app });
          else printSummary(app, client !== undefined);
          return;
        }
        const apps = client ? (await client.request<{ apps: AppSummary[] }>('GET', '/apps')).value.apps : await offlineList(home);
        if (flags.json) {
          printJson({ ok: true, server: client ? client.baseUrl : null, apps });
          return;
        }
        const orphans = apps.filter((a) => a.service.state !== 'stopped').length;
        printLine(
          client
            ? `Orchard server: ${client.baseUrl}/`
            : 'No Orchard server runs (start one with `orchard serve`); ' +
                `${orphans === 0 ? 'no app is running' : `${orphans} app(s) still run and are re-adopted when it starts`}.`,
        );
        if (apps.length === 0) printLine('No apps are installed.');
        for (const app of apps)
          printLine(`${app.id.padEnd(24)} ${app.lifecycle.padEnd(12)} ${app.service.state.padEnd(10)} ${verdictText(app)}`);
      }),
    );

  program
    .command('logs <id>')
    .description("Print an app's service output; -f follows it live")
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .addOption(new Option('-n, --tail <n>', 'how many past lines to print').default(200).argParser(wholeNumber('--tail')))
    .option('--json', 'print the lines as JSON (not with --follow)')
    .action(
      action(async (id: string, flags: { follow?: boolean; tail: number; json?: boolean }) => {
        const home = resolveHome();
        const tail = flags.tail;
        if (flags.follow && flags.json) throw new OrchardError('USAGE', '--json and --follow cannot be used together');
        await requireAppState(home, id);
        const client = await connectToServer(home);
        if (!client) {
          if (flags.follow)
            throw new OrchardError('SERVICE', `no Orchard server runs, so ${id} is not running`, { hint: `Start it: orchard start ${id}` });
          const lines = await lastRunLog(home, id, tail);
          if (flags.json) printJson({ ok: true, app: id, lines });
          else for (const line of lines) printLine(line);
          return;
        }
        if (flags.follow) {
          await follow(client, id, tail);
          return;
        }
        const { value } = await client.request<{ lines: string[] }>('GET', `/apps/${encodeURIComponent(id)}/logs?tail=${tail}`);
        if (flags.json) printJson({ ok: true, app: id, lines: value.lines });
        else for (const line of value.lines) printLine(line);
      }),
    );
}

async function serverOrLaunch(home: OrchardHome, quiet: boolean): Promise<ApiClient> {
  const existing = await connectToServer(home);
  if (existing) return existing;
  const { pid } = await launchDetached(home);
  if (!quiet)
    process.stderr.write(
      `No Orchard server was running: started one in the background (pid ${pid}); \`orchard serve --detach\` prints its URL.\n`,
    );
  const client = await connectToServer(home);
  if (!client)
    throw new OrchardError('SERVICE', 'the Orchard server started but cannot be found', { where: path.join(home.root, 'server.json') });
  return client;
}

/** Print the last lines, then every new line of this app, until Ctrl-C. */
async function follow(client: ApiClient, id: string, tail: number): Promise<void> {
  const socket = new WebSocket(client.eventsUrl, client.wsProtocols());
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  const buffered: string[] = [];
  let live = false;
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as ServerMessage;
    if (message.type !== 'log' || message.app !== id || message.job !== undefined) return;
    if (live) printLine(message.line);
    else buffered.push(message.line);
  });
  await opened;
  // Subscribe first, then fetch the past: no line falls between the two (a few may show twice).
  const { value } = await client.request<{ lines: string[] }>('GET', `/apps/${encodeURIComponent(id)}/logs?tail=${tail}`);
  for (const line of value.lines) printLine(line);
  for (const line of buffered.filter((l) => !value.lines.includes(l))) printLine(line);
  live = true;
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      socket.close();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    onStdoutClosed(stop);
    socket.once('close', () => resolve());
  });
}

function describeService(id: string, s: ServiceStatus): string {
  const parts = [`${id}: ${s.state}`];
  if (s.url) parts.push(`at ${s.url}`);
  else if (s.port) parts.push(`on port ${s.port}`);
  if (s.pid) parts.push(`(pid ${s.pid})`);
  if (s.restarts > 0) parts.push(`${s.restarts} restart(s)`);
  return [parts.join(' '), ...(s.message ? [s.message] : [])].join('\n');
}

function verdictText(app: AppSummary): string {
  if (!app.verdict) return 'backend: unknown';
  return `backend: ${app.verdict.backend}${app.verdict.fallback !== 'none' ? ` (fallback ${app.verdict.fallback})` : ''}`;
}

function printSummary(app: AppSummary, serverRuns: boolean): void {
  printLine(`${app.name} (${app.id}) ${app.version}: ${app.lifecycle}`);
  printLine(describeService(app.id, app.service) + (serverRuns ? '' : ' (no Orchard server runs)'));
  printLine(verdictText(app));
  for (const line of app.verdict?.evidence ?? []) printLine(`  evidence: ${line}`);
  for (const line of app.verdict?.advice ?? []) printLine(`  fix: ${line}`);
}

async function offlineSummary(home: OrchardHome, id: string): Promise<AppSummary> {
  return summaryFromState(await requireAppState(home, id), await liveRunRecord(runRecordDir(home), id));
}

async function offlineList(home: OrchardHome): Promise<AppSummary[]> {
  if (!existsSync(home.apps)) return [];
  const out: AppSummary[] = [];
  for (const name of (await readdir(home.apps)).sort()) {
    const state = await readAppState(appPaths(home, name)).catch(() => undefined);
    if (state) out.push(summaryFromState(state, await liveRunRecord(runRecordDir(home), state.id)));
  }
  return out;
}

/**
 * Without a server: the state, and whether an app a crashed server left running still runs (its
 * run record matches a live process by pid, start time and command line).
 */
function summaryFromState(state: AppState, running: RunRecord | undefined): AppSummary {
  if (!running) return appSummary(state, { service: { state: 'stopped', restarts: 0 }, hasService: false });
  const service: ServiceStatus = {
    state: running.readyAt !== undefined ? 'ready' : 'starting',
    pid: running.pid,
    port: running.port,
    startedAt: new Date(running.startedAt).toISOString(),
    restarts: running.restarts,
    message: 'no Orchard server runs: the app keeps running and is re-adopted when a server starts (`orchard serve`)',
  };
  return appSummary(state, { service, hasService: true });
}

/** Without a server: the end of the newest run log on disk. */
async function lastRunLog(home: OrchardHome, id: string, tail: number): Promise<string[]> {
  const dir = appPaths(home, id).logs;
  const files = existsSync(dir) ? (await readdir(dir)).filter((f) => f.startsWith('service-') && f.endsWith('.log')) : [];
  if (files.length === 0)
    throw new OrchardError('SERVICE', `${id} has no service logs yet`, { where: dir, hint: `Start it: orchard start ${id}` });
  const withTimes = await Promise.all(files.map(async (f) => ({ f, t: (await stat(path.join(dir, f))).mtimeMs })));
  const newest = withTimes.sort((a, b) => b.t - a.t)[0]!.f;
  const lines = (await readFile(path.join(dir, newest), 'utf8')).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  // A run a crashed server left behind: what it printed since is still in its spool files.
  const running = await liveRunRecord(runRecordDir(home), id);
  if (running) {
    for (const spool of [running.spools.stdout, running.spools.stderr]) {
      const text = await readFile(spool, 'utf8').catch(() => '');
      lines.push(...text.split('\n').filter((l) => l !== ''));
    }
  }
  return lines.slice(-tail);
}

/** A commander argParser for a whole number ≥ 0 (a usage error, exit 2, otherwise). */
function wholeNumber(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name} must be a whole number, got "${value}"`);
    return n;
  };
}
