import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { OrchardError, messageOf } from '../core/errors.js';
import type { AppStatus } from './app-status.js';
import { probeHttp } from './http-probe.js';
import { remember, terminateTree, type KnownPids } from './kill-tree.js';
import type { LogRing, ServiceLogLine } from './log-ring.js';
import { portOwner } from './port-owner.js';
import { processIdentity, processTree, readProcessTable, RUN_MARKER_ENV } from './process-table.js';
import { pruneRunLogs, RotatingLog } from './rotating-log.js';
import { recordIsLive, removeRunRecord, writeRunRecord, type RunRecord } from './run-record.js';
import { withPort, type ServiceSpec } from './service-spec.js';
import { SpoolTail } from './spool-tail.js';

/** How many new ports to try when the allocated one was taken before the service bound it. */
const MAX_PORT_RETRIES = 3;
/** Backoff doubles per restart up to this. */
const MAX_BACKOFF_MS = 60_000;
const READINESS_POLL_MS = 200;
/** Lines quoted in error messages. */
const ERROR_TAIL_LINES = 20;
const PORT_IN_USE = /EADDRINUSE|address already in use|port \d+ is (already )?in use|Only one usage of each socket address/i;

interface Exit {
  code: number | null;
  signal: string | null;
  spawnError?: string;
}

interface Run {
  number: number;
  port: number;
  pid: number | undefined;
  startedAt: number;
  exited: Promise<Exit>;
  exit?: Exit;
  log: RotatingLog;
  logMatched: Promise<void>;
  child: ChildProcess | undefined;
  /** ORCHARD_RUN_ID of every process of this run. */
  runId: string;
  tails: SpoolTail[];
  /** Re-adopted after a server restart: no child handle, its exit is noticed by polling. */
  adopted: boolean;
  /** What is persisted for re-adoption (when the supervisor persists runs). */
  record?: RunRecord;
}

export interface ManagedServiceHooks {
  allocatePort: () => Promise<number>;
  onStatus: (status: AppStatus) => void;
  onLine: (line: ServiceLogLine) => void;
  /** Where run records are persisted for re-adoption after a server crash (none: not persisted). */
  recordDir?: string;
}

/** How often an adopted process (no child handle) is checked for its exit. */
const ADOPTED_POLL_MS = 300;

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (err: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * One app's service: launches it, waits for readiness, watches its health, restarts it per policy
 * and stops its whole process tree. The Supervisor owns one of these per running app.
 */
export class ManagedService {
  status: AppStatus;
  /** Every pid seen in the service's tree (with its start time), so re-parented ones are still found. */
  readonly known: KnownPids = new Map();
  private current: Run | undefined;
  private stopping = false;
  private readonly stopRequested = deferred();
  private readonly firstReady = deferred<AppStatus>();
  private settled = false;
  private loop: Promise<void> | undefined;
  private finished = false;
  private restartPending = false;
  private runCount: number;
  private readonly adoptedTimers = new Set<NodeJS.Timeout>();

  constructor(
    readonly appId: string,
    readonly spec: ServiceSpec,
    private readonly ring: LogRing,
    private readonly hooks: ManagedServiceHooks,
    previousRuns = 0,
    private readonly adopt?: RunRecord,
  ) {
    this.runCount = previousRuns;
    this.status = { app: appId, state: 'stopped', restarts: 0, run: previousRuns };
    // Nobody may be listening to the start promise (a restart after the first ready): never unhandled.
    this.firstReady.promise.catch(() => undefined);
  }

  /** Resolves when the service is first ready; rejects (OrchardError SERVICE) when it cannot start. */
  start(): Promise<AppStatus> {
    this.loop ??= this.runLoop()
      .catch((err: unknown) => {
        this.system(`supervisor error: ${messageOf(err)}`);
        this.update({ state: 'crashed', error: messageOf(err) });
        this.settle(err);
      })
      .finally(() => {
        this.finished = true;
      });
    return this.firstReady.promise;
  }

  /** Stop the whole tree (SIGTERM, SIGKILL after the grace period) and resolve once it is gone. */
  async stop(): Promise<AppStatus> {
    this.stopping = true;
    this.stopRequested.resolve();
    if (this.loop) await this.loop;
    else this.update({ state: 'stopped' });
    return this.status;
  }

  /** True while the service has (or is about to have) processes. */
  get active(): boolean {
    return this.loop !== undefined && !this.finished;
  }

  /** True while it runs or will run again (starting, ready, unhealthy with processes, restart pending). */
  get busy(): boolean {
    if (!this.active) return false;
    const { state, pid, nextRestartAt } = this.status;
    return state === 'starting' || state === 'ready' || nextRestartAt !== undefined || (state === 'unhealthy' && pid !== undefined);
  }

  /** Resolves once the run loop has finished (after a final status, leftovers are still being cleaned up). */
  async idle(): Promise<void> {
    if (this.loop) await this.loop;
  }

  /** The pid that leads the current run's process group. */
  get rootPid(): number | undefined {
    return this.current && !this.current.exit ? this.current.pid : undefined;
  }

  get runs(): number {
    return this.runCount;
  }

  private async runLoop(): Promise<void> {
    let portRetries = 0;
    let adopt = this.adopt;
    for (;;) {
      if (this.stopping) return this.finishStopped();
      let run: Run;
      let outcome: Awaited<ReturnType<ManagedService['awaitReadiness']>>;
      if (adopt) {
        run = await this.adoptRun(adopt);
        // It was ready before the server died: an HTTP check confirms it, a log pattern cannot.
        outcome = this.spec.readiness.http || adopt.readyAt === undefined ? await this.awaitReadiness(run) : 'ready';
        adopt = undefined;
      } else {
        const port = this.spec.port ?? (await this.hooks.allocatePort());
        run = await this.launch(port);
        outcome = await this.awaitReadiness(run);
      }
      if (outcome === 'stop') {
        await this.terminate(run);
        return this.finishStopped();
      }
      if (outcome === 'timeout') {
        await this.terminate(run);
        const error = this.describe(
          `${this.appId} did not become ready within ${this.spec.readiness.timeoutMs} ms (${this.readinessText()})`,
        );
        this.update({ state: 'unhealthy', error, pid: undefined });
        this.settle(
          this.serviceError(error, 'Check the log lines above; raise readiness.timeout in the recipe if the app is just slow to load.'),
        );
        return;
      }
      if (outcome === 'foreign' || (outcome === 'exited' && (await this.lostPortRace(run)))) {
        await this.terminate(run);
        if (this.spec.port === undefined && portRetries < MAX_PORT_RETRIES) {
          portRetries++;
          this.system(`port ${run.port} was taken by another program before ${this.appId} could use it; retrying on a new port`);
          continue;
        }
        const error = this.describe(`port ${run.port} is used by another program`);
        this.update({ state: 'crashed', error, pid: undefined });
        this.settle(this.serviceError(error, 'Stop the program that holds the port, or let Orchard allocate one (no fixed port).'));
        return;
      }
      if (outcome === 'ready') {
        portRetries = 0;
        // What it printed before it was ready is in the ring when "ready" is reported.
        await Promise.all(run.tails.map((t) => t.drain()));
        this.update({ state: 'ready', readyAt: run.record?.readyAt ?? Date.now(), error: undefined });
        await this.persist(run, { readyAt: this.status.readyAt ?? Date.now() });
        this.settle();
        const end = await this.watchHealth(run);
        if (end === 'stop') {
          await this.terminate(run);
          return this.finishStopped();
        }
      }
      // It exited on its own, while starting or while running.
      if (await this.afterExit(run)) continue;
      return;
    }
  }

  /** Decide what an unplanned exit means. True when the loop should launch it again. */
  private async afterExit(run: Run): Promise<boolean> {
    const exit = await run.exited;
    const { policy, maxRestarts, backoffMs } = this.spec.restart;
    const failed = exit.code !== 0 || exit.signal !== null || exit.spawnError !== undefined;
    const how = exit.spawnError ?? (exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`);
    const error = this.describe(`${this.appId} ${how}`);
    const wanted = exit.spawnError === undefined && (policy === 'always' || (policy === 'on-failure' && failed));
    const base = { exitCode: exit.code, signal: exit.signal, error, pid: undefined };
    if (!wanted || this.status.restarts >= maxRestarts) {
      this.update({ ...base, state: failed || !this.settled ? 'crashed' : 'stopped', nextRestartAt: undefined });
      if (wanted) this.system(`giving up after ${this.status.restarts} restart(s) (maxRestarts ${maxRestarts})`);
      await this.terminate(run);
      this.settle(
        this.serviceError(
          error,
          exit.spawnError
            ? "Check that the program exists and is executable (the recipe's service.command)."
            : 'Read the log lines above; `orchard logs` shows the whole run.',
        ),
      );
      return false;
    }
    const delay = Math.min(backoffMs * 2 ** this.status.restarts, MAX_BACKOFF_MS);
    const restartAt = Date.now() + delay;
    this.update({ ...base, state: 'crashed', nextRestartAt: restartAt });
    this.system(`restarting in ${delay} ms (restart ${this.status.restarts + 1} of ${maxRestarts})`);
    await this.terminate(run);
    const stopped = await Promise.race([
      new Promise<false>((resolve) => setTimeout(() => resolve(false), Math.max(0, restartAt - Date.now()))),
      this.stopRequested.promise.then(() => true as const),
    ]);
    if (stopped) {
      this.finishStopped();
      return false;
    }
    // Counted in the next launch's status, so no half-way "crashed without a restart" status shows.
    this.restartPending = true;
    return true;
  }

  private async launch(port: number): Promise<Run> {
    this.runCount++;
    const number = this.runCount;
    const startedAt = Date.now();
    const logs = this.spec.logs ?? {};
    const stamp = new Date(startedAt).toISOString().replace(/[:.]/g, '-');
    const log = new RotatingLog(path.join(this.spec.logDir, `service-${stamp}-run${number}.log`), {
      maxBytes: logs.maxBytes ?? 5 * 1024 * 1024,
      keepRotated: logs.keepRotated ?? 3,
    });
    await pruneRunLogs(this.spec.logDir, 'service-', Math.max(0, (logs.keepRuns ?? 5) - 1)).catch(() => undefined);
    const { argv, env } = withPort(this.spec, port);
    const matched = deferred();
    const pattern = this.spec.readiness.log ? new RegExp(this.spec.readiness.log) : undefined;
    const exited = deferred<Exit>();
    const run: Run = {
      number,
      port,
      pid: undefined,
      startedAt,
      exited: exited.promise,
      log,
      logMatched: matched.promise,
      child: undefined,
      runId: randomUUID(),
      tails: [],
      adopted: false,
    };
    this.current = run;
    const url = `http://127.0.0.1:${port}${this.spec.ui ?? '/'}`;
    const restarts = this.status.restarts + (this.restartPending ? 1 : 0);
    this.restartPending = false;
    this.update({
      state: 'starting',
      restarts,
      port,
      url,
      startedAt,
      run: number,
      pid: undefined,
      exitCode: undefined,
      signal: undefined,
      readyAt: undefined,
      nextRestartAt: undefined,
    });
    this.system(`starting run ${number} on port ${port}: ${argv.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);

    const [file, ...args] = argv;
    if (file === undefined) {
      exited.resolve({ code: null, signal: null, spawnError: 'has an empty command' });
      run.exit = { code: null, signal: null };
      return run;
    }
    // Output goes to spool files the supervisor tails, never to pipes: a service must outlive a crashed server.
    const spools = { stdout: spoolPath(this.spec.logDir, stamp, number, 'out'), stderr: spoolPath(this.spec.logDir, stamp, number, 'err') };
    const fds: number[] = [];
    let child: ChildProcess;
    try {
      mkdirSync(this.spec.logDir, { recursive: true });
      const out = SpoolTail.openForChild(spools.stdout);
      fds.push(out);
      const err = SpoolTail.openForChild(spools.stderr);
      fds.push(err);
      // node's spawn (argv array, no shell): it passes the spool descriptors straight to the child.
      child = spawn(file, args, {
        cwd: this.spec.cwd,
        env: { ...env, [RUN_MARKER_ENV]: run.runId },
        detached: true,
        stdio: ['ignore', out, err],
      });
    } catch (err) {
      exited.resolve({ code: null, signal: null, spawnError: `could not be started: ${messageOf(err)}` });
      return run;
    } finally {
      // The child holds its own copies.
      for (const fd of fds) closeSync(fd);
    }
    run.child = child;
    run.pid = child.pid;
    run.tails = this.tailSpools(run, spools, matched.resolve, pattern);
    const finish = (exit: Exit): void => {
      if (run.exit) return;
      run.exit = exit;
      // Every line it printed is read before its exit is reported.
      void Promise.all(run.tails.map((t) => t.drain())).then(() => {
        if (exit.spawnError) this.system(`${file} ${exit.spawnError}`);
        else this.system(`process ${run.pid ?? '?'} ${exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`}`);
        exited.resolve(exit);
      });
    };
    child.on('exit', (code, signal) => finish({ code, signal }));
    child.on('error', (err) => {
      if (run.pid === undefined || !run.exit) finish({ code: null, signal: null, spawnError: `could not be started: ${messageOf(err)}` });
    });
    if (run.pid !== undefined && this.hooks.recordDir) {
      const identity = await processIdentity(run.pid);
      if (identity && !run.exit) {
        run.record = {
          schema: 1,
          app: this.appId,
          pid: run.pid,
          identity,
          runId: run.runId,
          port,
          run: number,
          restarts,
          startedAt,
          logFile: log.file,
          spools,
          spec: this.spec,
          serverPid: process.pid,
        };
        await this.persist(run, {});
      }
    }
    if (run.pid !== undefined) this.update({ pid: run.pid });
    return run;
  }

  /** Tail a run's spools into the ring, the log file and the readiness pattern. */
  private tailSpools(run: Run, spools: { stdout: string; stderr: string }, matched: () => void, pattern: RegExp | undefined): SpoolTail[] {
    return (['stdout', 'stderr'] as const).map((stream) => {
      const tail = new SpoolTail(spools[stream], (line) => {
        this.line(stream, line, run);
        if (pattern?.test(line)) matched();
      });
      tail.start();
      return tail;
    });
  }

  /**
   * Take over a run a previous server started (found by pid, start time and command line): no
   * child handle, so its exit is noticed by polling, and its exit status stays unknown.
   */
  private async adoptRun(record: RunRecord): Promise<Run> {
    this.runCount = Math.max(this.runCount, record.run);
    const logs = this.spec.logs ?? {};
    const log = new RotatingLog(record.logFile, { maxBytes: logs.maxBytes ?? 5 * 1024 * 1024, keepRotated: logs.keepRotated ?? 3 });
    const matched = deferred();
    const pattern = this.spec.readiness.log ? new RegExp(this.spec.readiness.log) : undefined;
    const exited = deferred<Exit>();
    const run: Run = {
      number: record.run,
      port: record.port,
      pid: record.pid,
      // Readiness is measured from now.
      startedAt: Date.now(),
      exited: exited.promise,
      log,
      logMatched: matched.promise,
      child: undefined,
      runId: record.runId,
      tails: [],
      adopted: true,
      record: { ...record, serverPid: process.pid },
    };
    this.current = run;
    const url = `http://127.0.0.1:${record.port}${this.spec.ui ?? '/'}`;
    this.update({
      state: 'starting',
      restarts: record.restarts,
      port: record.port,
      url,
      startedAt: record.startedAt,
      run: record.run,
      pid: record.pid,
    });
    this.system(
      `re-adopted process ${record.pid} (run ${record.run}, port ${record.port}) after the Orchard server restarted; ` +
        'its output is read from its spool files, so lines it printed while no server ran follow',
    );
    run.tails = this.tailSpools(run, record.spools, matched.resolve, pattern);
    await this.persist(run, {});
    const timer = setInterval(() => {
      void recordIsLive(record).then(async (live) => {
        if (live || run.exit) return;
        clearInterval(timer);
        run.exit = { code: null, signal: null };
        await Promise.all(run.tails.map((t) => t.drain()));
        this.system(`process ${record.pid} ended (its exit status is unknown: it was adopted from an earlier server)`);
        exited.resolve(run.exit);
      });
    }, ADOPTED_POLL_MS);
    timer.unref();
    void run.exited.then(() => clearInterval(timer));
    this.adoptedTimers.add(timer);
    return run;
  }

  /** Update and write the run's record (a failed write is logged, never fatal). */
  private async persist(run: Run, patch: Partial<RunRecord>): Promise<void> {
    const dir = this.hooks.recordDir;
    if (!dir || !run.record) return;
    Object.assign(run.record, patch);
    await writeRunRecord(dir, run.record).catch((err: unknown) =>
      this.system(`could not record the run for re-adoption: ${messageOf(err)}`),
    );
  }

  /** Wait for every configured readiness check, the process's exit, a stop request or the timeout. */
  private async awaitReadiness(run: Run): Promise<'ready' | 'exited' | 'timeout' | 'foreign' | 'stop'> {
    const { http, log, timeoutMs } = this.spec.readiness;
    const deadline = run.startedAt + timeoutMs;
    let done = false;
    const checks = (async (): Promise<'ready' | 'foreign' | 'timeout'> => {
      if (log) {
        const timedOut = await Promise.race([run.logMatched.then(() => false), sleepUntil(deadline, () => done).then(() => true)]);
        if (timedOut) return 'timeout';
      }
      if (http) {
        while (!done && Date.now() < deadline) {
          if (await probeHttp(run.port, http, Math.min(1000, Math.max(100, deadline - Date.now())))) {
            // Answered: but is it our service, or a program that took the port first?
            const owner = await portOwner(run.port, await this.treePids(run));
            return owner === 'foreign' ? 'foreign' : 'ready';
          }
          await sleepUntil(Math.min(deadline, Date.now() + READINESS_POLL_MS), () => done);
        }
        return 'timeout';
      }
      if (!log) {
        // No check declared: alive for a moment counts as ready.
        await sleepUntil(Math.min(deadline, Date.now() + 500), () => done);
      }
      return 'ready';
    })();
    const outcome = await Promise.race([
      checks,
      run.exited.then(() => 'exited' as const),
      this.stopRequested.promise.then(() => 'stop' as const),
    ]);
    done = true;
    // An exit racing a successful check: the exit wins.
    if (outcome === 'ready' && run.exit) return 'exited';
    return outcome;
  }

  /** While running: HTTP health checks; resolves when the process exits or a stop is requested. */
  private async watchHealth(run: Run): Promise<'exited' | 'stop'> {
    const ended = Promise.race([run.exited.then(() => 'exited' as const), this.stopRequested.promise.then(() => 'stop' as const)]);
    const path = this.spec.readiness.http;
    if (!path) return ended;
    const interval = this.spec.health?.intervalMs ?? 2000;
    const limit = this.spec.health?.failuresBeforeUnhealthy ?? 3;
    let failures = 0;
    for (;;) {
      const tick = await Promise.race([ended, new Promise<'tick'>((resolve) => setTimeout(() => resolve('tick'), interval))]);
      if (tick !== 'tick') return tick;
      const ok = await probeHttp(run.port, path, Math.min(interval, 2000));
      if (run.exit || this.stopping) return ended;
      if (ok) {
        failures = 0;
        if (this.status.state === 'unhealthy') {
          this.system('health check passes again');
          this.update({ state: 'ready', error: undefined });
        }
      } else if (++failures >= limit && this.status.state !== 'unhealthy') {
        const error = this.describe(`${this.appId} failed ${failures} health checks in a row (GET ${path})`);
        this.system(`unhealthy: ${failures} failed health checks on ${path}`);
        this.update({ state: 'unhealthy', error });
      }
    }
  }

  /** Was an early exit caused by someone else holding the port? */
  private async lostPortRace(run: Run): Promise<boolean> {
    if (this.spec.port !== undefined) return false;
    const recent = this.ring.toArray(50).filter((l) => l.run === run.number);
    if (recent.some((l) => PORT_IN_USE.test(l.line))) return true;
    return (await portOwner(run.port, await this.treePids(run))) === 'foreign';
  }

  /** The run's process tree right now (a worker child may hold the listening socket). */
  private async treePids(run: Run): Promise<number[]> {
    if (run.pid === undefined) return [...this.known.keys()];
    const table = await readProcessTable().catch(() => []);
    const tree = processTree(table, run.pid, this.known);
    remember(this.known, tree);
    return [...new Set([run.pid, ...tree.map((p) => p.pid)])];
  }

  private async terminate(run: Run): Promise<void> {
    if (run.pid !== undefined) {
      const survivors = await terminateTree(run.pid, this.known, this.spec.stopGraceMs, run.runId);
      if (survivors.length > 0) this.system(`could not kill process(es) ${survivors.join(', ')}`);
      this.known.clear();
    }
    for (const timer of this.adoptedTimers) clearInterval(timer);
    this.adoptedTimers.clear();
    await Promise.all(run.tails.map((t) => t.close(true)));
    if (this.hooks.recordDir && run.pid !== undefined)
      await removeRunRecord(this.hooks.recordDir, this.appId, run.pid).catch(() => undefined);
    await run.log.flush();
  }

  /** ORCHARD_RUN_ID of the current run (the last-resort kill at exit finds escaped processes by it). */
  get runId(): string | undefined {
    return this.current?.runId;
  }

  private finishStopped(): void {
    this.update({ state: 'stopped', pid: undefined, nextRestartAt: undefined, error: undefined });
    this.settle(
      new OrchardError('SERVICE', `${this.appId} was stopped before it became ready`, {
        where: `app ${this.appId}`,
        hint: 'Start it again.',
      }),
    );
  }

  private settle(err?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    if (err === undefined) this.firstReady.resolve(this.status);
    else this.firstReady.reject(err);
  }

  private update(patch: Partial<AppStatus>): void {
    const next: AppStatus = { ...this.status };
    for (const [key, value] of Object.entries(patch) as [keyof AppStatus, unknown][]) {
      if (value === undefined) delete next[key];
      else (next as unknown as Record<string, unknown>)[key] = value;
    }
    const changed = JSON.stringify(next) !== JSON.stringify(this.status);
    this.status = next;
    if (changed) this.hooks.onStatus({ ...next });
  }

  private line(stream: ServiceLogLine['stream'], line: string, run: Run | undefined = this.current): void {
    const entry: ServiceLogLine = { type: 'log', app: this.appId, stream, line, time: Date.now(), run: run?.number ?? this.runCount };
    this.ring.push(entry);
    run?.log.write(stream === 'system' ? `[orchard] ${line}` : line);
    this.hooks.onLine(entry);
  }

  private system(message: string): void {
    this.line('system', message);
  }

  private readinessText(): string {
    const parts: string[] = [];
    if (this.spec.readiness.http) parts.push(`GET ${this.spec.readiness.http} never answered 2xx`);
    if (this.spec.readiness.log) parts.push(`no output line matched /${this.spec.readiness.log}/`);
    return parts.join('; ') || 'no readiness check';
  }

  /** A message plus the last lines the service printed, the way users need it to see why. */
  private describe(message: string): string {
    const runNumber = this.current?.number;
    const tail = this.ring
      .toArray(ERROR_TAIL_LINES * 4)
      .filter((l) => l.stream !== 'system' && (runNumber === undefined || l.run === runNumber))
      .slice(-ERROR_TAIL_LINES)
      .map((l) => `  ${l.line}`);
    return tail.length > 0 ? `${message}\nlast log lines:\n${tail.join('\n')}` : `${message} (it printed nothing)`;
  }

  private serviceError(message: string, hint: string): OrchardError {
    const file = this.current?.log.file;
    return new OrchardError('SERVICE', message, { where: `app ${this.appId}${file ? `, log ${file}` : ''}`, hint });
  }
}

/** Hidden (not `service-*`, so run-log pruning leaves them alone); removed when the run ends. */
function spoolPath(logDir: string, stamp: string, run: number, stream: 'out' | 'err'): string {
  return path.join(logDir, `.spool-${stamp}-run${run}.${stream}`);
}

/** Sleep until `deadline` (epoch ms), waking early in small steps when `cancelled()` turns true. */
async function sleepUntil(deadline: number, cancelled: () => boolean): Promise<void> {
  while (!cancelled() && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(100, Math.max(1, deadline - Date.now()))));
  }
}
