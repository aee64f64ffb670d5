import { EventEmitter } from 'node:events';
import { rm, stat } from 'node:fs/promises';
import { OrchardError, messageOf } from '../core/errors.js';
import type { AppStatus } from './app-status.js';
import { sampleGpus, type GpuStats } from './ioreg.js';
import { killSync, remember } from './kill-tree.js';
import { LogRing, type ServiceLogLine } from './log-ring.js';
import { ManagedService, type ManagedServiceHooks } from './managed-service.js';
import { allocatePort } from '../core/port.js';
import { processTree, readProcessTable } from './process-table.js';
import { readRunRecord, recordedApps, recordIsLive, runRecordFile } from './run-record.js';
import type { ServiceSpec } from './service-spec.js';
import { TreeCpuMeter, type TreeMetrics } from './tree-metrics.js';

/** One metrics sample of one app's process tree (every ~1 s while it runs). */
export interface AppMetrics extends TreeMetrics {
  type: 'metrics';
  app: string;
  /** Epoch ms. */
  time: number;
  pids: number[];
  /** macOS only: the machine's GPUs (system-wide, not per app: IOAccelerator statistics are global). */
  gpus?: GpuStats[];
}

/** Events for the API's WebSocket: status changes, output lines, metrics samples. */
export interface SupervisorEvents {
  status: [AppStatus];
  log: [ServiceLogLine];
  metrics: [AppMetrics];
}

export interface SupervisorOptions {
  /** Called for every output line of every app (e.g. to feed the live backend diagnoser's push()). */
  onLine?: (appId: string, line: ServiceLogLine) => void;
  /** Metrics sampling period; 0 turns sampling off. Default 1000 ms. */
  metricsIntervalMs?: number;
  /** Lines kept in memory per app. Default 2000 (a spec's logs.ringLines overrides it). */
  ringLines?: number;
  /** Where ports come from (tests use it to force a collision). Default: bind 127.0.0.1:0. */
  allocatePort?: () => Promise<number>;
  /**
   * Persist each running app here (ORCHARD_HOME/run), so a server that starts after a crash can
   * re-adopt them (`adopt()`). Default: not persisted.
   */
  recordDir?: string;
}

interface AppEntry {
  ring: LogRing;
  service?: ManagedService;
  meter: TreeCpuMeter;
  metrics?: AppMetrics;
  lineSubscribers: Set<(line: ServiceLogLine) => void>;
}

/**
 * Runs the services of several apps at once, one Supervisor per Orchard server process.
 * Listen with `supervisor.on('status' | 'log' | 'metrics', …)`.
 */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  private readonly apps = new Map<string, AppEntry>();
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;
  private closed = false;
  private readonly onProcessExit = (): void => this.killAllSync();

  constructor(private readonly options: SupervisorOptions = {}) {
    super();
    // Services run detached (their own process groups): if Orchard dies, take them along.
    process.on('exit', this.onProcessExit);
  }

  /**
   * Launch an app's service. Resolves with its status once it is ready; rejects with an
   * OrchardError (SERVICE) that includes the last log lines when it cannot start.
   */
  async start(appId: string, spec: ServiceSpec): Promise<AppStatus> {
    if (this.closed) throw new OrchardError('SERVICE', 'the supervisor is closed', { where: `app ${appId}` });
    validateSpec(appId, spec);
    const cwd = await stat(spec.cwd).catch(() => undefined);
    if (!cwd?.isDirectory()) {
      throw new OrchardError('SERVICE', `the working folder of ${appId} does not exist: ${spec.cwd}`, {
        where: `app ${appId}, service cwd`,
        hint: 'Install the app first (its folder is created by install), or fix service.cwd in the recipe.',
      });
    }
    const entry = this.entry(appId, spec.logs?.ringLines);
    if (entry.service?.busy) {
      throw new OrchardError('SERVICE', `${appId} is already running (${entry.service.status.state})`, {
        where: `app ${appId}`,
        hint: 'Stop it first, or open the one that runs.',
      });
    }
    // A final status (crashed, stopped) may still be cleaning up leftovers: let it finish.
    await entry.service?.idle();
    // A run an earlier server left behind (not adopted yet) is taken over, never started twice.
    if (!entry.service?.active && this.options.recordDir) {
      const adopted = await this.adoptOne(appId);
      if (adopted) return adopted.start();
    }
    const service = new ManagedService(appId, spec, entry.ring, this.hooks(entry, appId), entry.service?.runs ?? 0);
    entry.service = service;
    entry.metrics = undefined;
    this.ensureSampling();
    return service.start();
  }

  /**
   * After a server crash: take over every app a previous server left running (its record matches a
   * live process by pid, start time and command line), so none is started twice. Records whose
   * process is gone are removed. Resolves with the adopted app ids once each has been re-checked.
   */
  async adopt(): Promise<string[]> {
    const dir = this.options.recordDir;
    if (!dir || this.closed) return [];
    const adopted: string[] = [];
    for (const appId of await recordedApps(dir)) {
      const service = await this.adoptOne(appId);
      if (!service) continue;
      adopted.push(appId);
      await service.start().catch(() => undefined);
    }
    return adopted;
  }

  /** Adopt one app's recorded run when its process still lives; remove a record whose process is gone. */
  private async adoptOne(appId: string): Promise<ManagedService | undefined> {
    const dir = this.options.recordDir;
    if (!dir) return undefined;
    const record = await readRunRecord(dir, appId);
    if (!record || !(await recordIsLive(record))) {
      await rm(runRecordFile(dir, appId), { force: true });
      if (record) await Promise.all([rm(record.spools.stdout, { force: true }), rm(record.spools.stderr, { force: true })]);
      return undefined;
    }
    const entry = this.entry(appId, record.spec.logs?.ringLines);
    if (entry.service?.active) return undefined;
    const service = new ManagedService(appId, record.spec, entry.ring, this.hooks(entry, appId), record.run - 1, record);
    entry.service = service;
    entry.metrics = undefined;
    this.ensureSampling();
    return service;
  }

  private hooks(entry: AppEntry, appId: string): ManagedServiceHooks {
    return {
      allocatePort: this.options.allocatePort ?? allocatePort,
      onStatus: (status) => this.emit('status', status),
      onLine: (line) => this.deliver(entry, appId, line),
      ...(this.options.recordDir ? { recordDir: this.options.recordDir } : {}),
    };
  }

  /** Stop an app (its whole process tree). Stopping a stopped app is fine. */
  async stop(appId: string): Promise<AppStatus> {
    const service = this.apps.get(appId)?.service;
    if (!service) return { app: appId, state: 'stopped', restarts: 0, run: 0 };
    return service.stop();
  }

  status(appId: string): AppStatus {
    return this.apps.get(appId)?.service?.status ?? { app: appId, state: 'stopped', restarts: 0, run: 0 };
  }

  list(): AppStatus[] {
    return [...this.apps.keys()].map((id) => this.status(id));
  }

  /** The newest lines kept in memory (oldest first). */
  logs(appId: string, limit?: number): ServiceLogLine[] {
    return this.apps.get(appId)?.ring.toArray(limit) ?? [];
  }

  /** The latest metrics sample of a running app. */
  metrics(appId: string): AppMetrics | undefined {
    return this.apps.get(appId)?.metrics;
  }

  /** Follow one app's output lines; returns the unsubscribe function. */
  subscribeLines(appId: string, listener: (line: ServiceLogLine) => void): () => void {
    const entry = this.entry(appId);
    entry.lineSubscribers.add(listener);
    return () => entry.lineSubscribers.delete(listener);
  }

  /** Stop every app and the sampler. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.apps.keys()].map((id) => this.stop(id)));
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    process.off('exit', this.onProcessExit);
  }

  /** Take one metrics sample now (the timer calls this every interval). */
  async sampleMetrics(): Promise<AppMetrics[]> {
    const running = [...this.apps.entries()].filter(([, e]) => e.service?.rootPid !== undefined);
    if (running.length === 0) return [];
    const table = await readProcessTable();
    const gpus = await sampleGpus().catch(() => undefined);
    const out: AppMetrics[] = [];
    for (const [app, entry] of running) {
      const service = entry.service;
      const rootPid = service?.rootPid;
      if (!service || rootPid === undefined) continue;
      const tree = processTree(table, rootPid, service.known).filter((p) => p.pid !== process.pid);
      remember(service.known, tree, table);
      const measured = await entry.meter.measure(tree);
      const sample: AppMetrics = {
        type: 'metrics',
        app,
        time: Date.now(),
        pids: tree.map((p) => p.pid),
        ...measured,
        ...(gpus ? { gpus } : {}),
      };
      entry.metrics = sample;
      out.push(sample);
      this.emit('metrics', sample);
    }
    return out;
  }

  private entry(appId: string, ringLines?: number): AppEntry {
    let entry = this.apps.get(appId);
    if (!entry) {
      entry = { ring: new LogRing(ringLines ?? this.options.ringLines ?? 2000), meter: new TreeCpuMeter(), lineSubscribers: new Set() };
      this.apps.set(appId, entry);
    } else if (ringLines !== undefined && ringLines !== entry.ring.capacity) {
      // A spec asks for another ring size: keep what the old ring holds.
      const ring = new LogRing(ringLines);
      for (const line of entry.ring.toArray()) ring.push(line);
      entry.ring = ring;
    }
    return entry;
  }

  private deliver(entry: AppEntry, appId: string, line: ServiceLogLine): void {
    this.emit('log', line);
    // A subscriber that throws must not break the service's output handling.
    try {
      this.options.onLine?.(appId, line);
    } catch (err) {
      entry.ring.push({ ...line, stream: 'system', line: `onLine hook failed: ${messageOf(err)}` });
    }
    for (const listener of entry.lineSubscribers) {
      try {
        listener(line);
      } catch {
        // Ignored: one broken stream consumer must not affect the others.
      }
    }
  }

  private ensureSampling(): void {
    const interval = this.options.metricsIntervalMs ?? 1000;
    if (interval <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (this.sampling) return;
      this.sampling = true;
      this.sampleMetrics()
        .catch(() => undefined)
        .finally(() => {
          this.sampling = false;
        });
    }, interval);
    this.timer.unref();
  }

  private killAllSync(): void {
    for (const entry of this.apps.values()) {
      const pid = entry.service?.rootPid;
      if (entry.service && pid !== undefined) killSync(pid, entry.service.known, entry.service.runId);
    }
  }
}

function validateSpec(appId: string, spec: ServiceSpec): void {
  const where = `app ${appId}, service spec`;
  if (spec.argv.length === 0 || !spec.argv[0])
    throw new OrchardError('SERVICE', `${appId} has no command to run`, { where, hint: 'Give the service an argv.' });
  if (!(spec.readiness.timeoutMs > 0))
    throw new OrchardError('SERVICE', `readiness timeout must be positive, got ${spec.readiness.timeoutMs}`, { where });
  if (spec.readiness.log !== undefined) {
    try {
      new RegExp(spec.readiness.log);
    } catch (err) {
      throw new OrchardError('SERVICE', `readiness.log is not a valid regular expression: ${messageOf(err)}`, {
        where,
        hint: "Fix the pattern in the recipe's service.readiness.log.",
      });
    }
  }
  if (spec.port !== undefined && !(Number.isInteger(spec.port) && spec.port > 0 && spec.port < 65536)) {
    throw new OrchardError('SERVICE', `port ${spec.port} is not a valid TCP port`, { where });
  }
}
