import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { OrchardError, messageOf } from '../../core/errors.js';
import type { Verdict } from '../../diagnose/verdict.js';
import { allocatePort } from '../../core/port.js';
import type { DiffusionEngine, EngineHealth, JobEvent, JobRequest, JobResult, JobSnapshot } from './diffusion-engine.js';
import { loadJobRecords, saveJobRecord } from './result-files.js';
import { takeResult, type SdResult } from './take-result.js';
import { listDevices, preflightVerdict } from './list-devices.js';
import { runtimeVerdict } from './runtime-verdict.js';
import { effectiveRequest, nativeBody, serverArgs, type ServerLaunch } from './sd-args.js';
import { SdOutputReader } from './sd-output-reader.js';
import { SdServerProcess, type ProcessExit } from './sd-server-process.js';

const POLL_MS = 250;
const RETRY_429_MS = 500;
const MAX_RESTARTS = 3;
/** Finished jobs kept in the table (metadata only: their results are files). */
const KEEP_FINISHED_JOBS = 50;
/** Earlier jobs read back from the outputs folder at start. */
const SAVED_JOBS_LISTED = 500;

export interface SdCppEngineOptions {
  sdServer: string;
  launch: Omit<ServerLaunch, 'port'>;
  env?: NodeJS.ProcessEnv;
  /** Every sd-server output line, verbatim (the service prints them on stdout for the supervisor). */
  onLine?: (line: string) => void;
  /** Our own notices (restarts, crashes). */
  onNotice?: (text: string) => void;
  maxQueue?: number;
  readyTimeoutMs?: number;
  /** Each finished result is saved here, with its job's snapshot (see result-files.ts). */
  outputDir: string;
}

interface JobRecord {
  snapshot: JobSnapshot;
  /** The effective request as sent to sd-server (the snapshot hides the init image). */
  native: JobRequest;
  result?: JobResult;
  sdJobId?: string;
  attempts429: number;
}

/** sd-server's job JSON, as much of it as we read. */
interface SdJob {
  status?: string;
  result?: SdResult | null;
  error?: { code?: string; message?: string } | null;
}

/**
 * The sd.cpp adapter: one sd-server per model set, jobs forwarded one at a time to its native async API
 * (progress exists only on its stdout and carries no job id, so only one job may run to attribute it).
 */
export class SdCppEngine implements DiffusionEngine {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly pending: string[] = [];
  private readonly listeners = new Set<(event: JobEvent) => void>();
  private readonly reader = new SdOutputReader();
  private readonly env: NodeJS.ProcessEnv;
  private preflightResult: Verdict | undefined;
  private process: SdServerProcess | undefined;
  private port = 0;
  private status: EngineHealth['status'] = 'starting';
  private active: JobRecord | undefined;
  private lastExit: ProcessExit | undefined;
  private restarts = 0;
  private stopping = false;
  /** Set while we restart on purpose (cancel of a generating job): not a crash. */
  private intentionalRestart = false;
  private pollTimer: NodeJS.Timeout | undefined;
  /** Finished jobs known from disk (earlier runs of the service, or pruned from the table). */
  private readonly saved = new Map<string, JobSnapshot>();
  /** Job records being written (stop waits for them). */
  private readonly recordWrites = new Set<Promise<void>>();

  constructor(private readonly opts: SdCppEngineOptions) {
    this.env = opts.env ?? process.env;
  }

  async preflight(): Promise<Verdict> {
    const devices = await listDevices(this.opts.sdServer, this.env);
    this.preflightResult = preflightVerdict(this.opts.launch.backend, devices);
    return this.preflightResult;
  }

  async start(): Promise<void> {
    if (!this.preflightResult) await this.preflight();
    for (const job of (await loadJobRecords(this.opts.outputDir, SAVED_JOBS_LISTED)).reverse()) this.saved.set(job.id, job);
    await this.spawn();
  }

  submit(request: JobRequest): JobSnapshot {
    if (this.status === 'failed' || this.status === 'stopped') {
      throw new OrchardError('SERVICE', `the ${this.opts.launch.media} engine is ${this.status}`, {
        hint: 'Restart the service; see its log for the cause.',
      });
    }
    if (this.pending.length >= (this.opts.maxQueue ?? 8)) {
      throw new OrchardError('SERVICE', `the job queue is full (${this.pending.length} waiting)`, {
        hint: 'Wait for a job to finish, then submit again.',
      });
    }
    const effective = effectiveRequest(request, this.opts.launch.jobDefaults);
    const snapshot: JobSnapshot = {
      id: randomUUID(),
      kind: effective.kind,
      state: 'queued',
      phase: 'queued',
      request: { ...effective, ...(effective.initImage ? { initImage: `(${effective.initImage.length} base64 chars)` } : {}) },
      createdAt: new Date().toISOString(),
      notes: [],
    };
    if (request.kind !== 'text-to-image' && request.frames !== undefined && effective.frames !== request.frames) {
      snapshot.notes.push(`frames ${request.frames} normalised to ${String(effective.frames)} (Wan needs 4n+1 frames)`);
    }
    const record: JobRecord = { snapshot, native: effective, attempts429: 0 };
    this.jobs.set(snapshot.id, record);
    this.pending.push(snapshot.id);
    this.emit({ type: 'state', job: snapshot });
    this.prune();
    queueMicrotask(() => void this.pump());
    return snapshot;
  }

  async cancel(id: string): Promise<JobSnapshot> {
    const record = this.jobs.get(id);
    if (!record) throw new OrchardError('USAGE', `no job ${id}`);
    const job = record.snapshot;
    if (job.state === 'queued' && !record.sdJobId) {
      this.pending.splice(this.pending.indexOf(id), 1);
      this.finish(record, 'cancelled');
      return job;
    }
    if (job.state !== 'queued' && job.state !== 'running') return job;
    const res = await this.sdFetch(`/sdcpp/v1/jobs/${String(record.sdJobId)}/cancel`, { method: 'POST' });
    await res.arrayBuffer();
    if (res.status === 200) {
      this.finish(record, 'cancelled');
      void this.pump();
      return job;
    }
    // 409: sd.cpp cannot interrupt a generating job (capabilities: cancel_generating=false at the pinned
    // commit). Stopping the GPU work means stopping the process; the model reloads after.
    job.notes.push('sd.cpp cannot interrupt a running generation: sd-server was restarted to stop it (the model reloads).');
    this.intentionalRestart = true;
    this.status = 'restarting';
    this.finish(record, 'cancelled');
    await this.process?.stop();
    return job;
  }

  job(id: string): JobSnapshot | undefined {
    return this.jobs.get(id)?.snapshot ?? this.saved.get(id);
  }

  /** Earlier jobs (from disk) first, then this run's, oldest first. */
  jobsList(): JobSnapshot[] {
    const live = [...this.jobs.values()].map((r) => r.snapshot);
    return [...[...this.saved.values()].filter((j) => !this.jobs.has(j.id)), ...live];
  }

  result(id: string): JobResult | undefined {
    const record = this.jobs.get(id);
    if (record) return record.result;
    const summary = this.saved.get(id)?.result;
    if (!summary?.file) return undefined;
    const { bytes: _size, ...meta } = summary;
    void _size;
    return { ...meta, file: summary.file };
  }

  onEvent(listener: (event: JobEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  health(): EngineHealth {
    const preflight: Verdict = this.preflightResult ?? {
      backend: 'unknown',
      fallback: 'none',
      evidence: [],
      advice: ['preflight has not run'],
    };
    return {
      status: this.status,
      backend: this.opts.launch.backend,
      model: path.basename(this.opts.launch.models.diffusionModel),
      memory: this.reader.memory,
      verdict: runtimeVerdict(preflight, this.reader.memory, { offloadToCpu: this.opts.launch.offloadToCpu === true }),
      ...(this.lastExit ? { lastExit: this.lastExit } : {}),
    };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.status = 'stopped';
    if (this.pollTimer) clearTimeout(this.pollTimer);
    for (const id of this.pending.splice(0)) {
      const record = this.jobs.get(id);
      if (record) this.finish(record, 'cancelled', { message: 'the service stopped' });
    }
    if (this.active) this.finish(this.active, 'cancelled', { message: 'the service stopped' });
    await this.process?.stop();
    // Every finished job's record is on disk before the service exits.
    await Promise.all(this.recordWrites);
  }

  // ---- process ----

  private async spawn(): Promise<void> {
    this.port = await allocatePort();
    this.status = this.restarts > 0 ? 'restarting' : 'starting';
    this.reader.resetStage('loading');
    const proc = new SdServerProcess({
      sdServer: this.opts.sdServer,
      args: serverArgs({ ...this.opts.launch, port: this.port }),
      port: this.port,
      env: this.env,
      readyTimeoutMs: this.opts.readyTimeoutMs ?? 15 * 60_000,
      onLine: (line) => this.onLine(line),
    });
    this.process = proc;
    void proc.exited.then((exit) => this.onExit(proc, exit));
    await proc.waitReady();
    if (this.process !== proc || this.stopping) return;
    this.status = 'ready';
    void this.pump();
  }

  private async onExit(proc: SdServerProcess, exit: ProcessExit): Promise<void> {
    if (this.process !== proc || this.stopping) return;
    const intentional = this.intentionalRestart;
    this.intentionalRestart = false;
    if (!intentional) {
      this.lastExit = exit;
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
      this.opts.onNotice?.(`sd-server ${how}; last lines:\n${exit.logTail.slice(-10).join('\n')}`);
      if (this.active) {
        this.finish(this.active, 'failed', {
          message:
            `sd-server ${how} during the job` +
            `${exit.signal === 'SIGABRT' ? ' (a GGML abort: usually an operator the GPU backend does not support)' : ''}`,
          logTail: exit.logTail,
          ...(exit.signal ? { signal: exit.signal } : {}),
          ...(exit.code !== null ? { exitCode: exit.code } : {}),
        });
      }
      if (this.status !== 'ready' && this.restarts === 0 && !this.active) return; // died while starting: start() reports it
      this.restarts += 1;
      if (this.restarts > MAX_RESTARTS) {
        this.status = 'failed';
        this.failPending('sd-server keeps crashing');
        return;
      }
    }
    this.active = undefined;
    this.status = 'restarting';
    try {
      await this.spawn();
    } catch (err) {
      this.status = 'failed';
      this.opts.onNotice?.(`sd-server could not be restarted: ${messageOf(err)}`);
      this.failPending(`sd-server could not be restarted: ${messageOf(err)}`);
    }
  }

  private failPending(message: string): void {
    for (const id of this.pending.splice(0)) {
      const record = this.jobs.get(id);
      if (record) this.finish(record, 'failed', { message });
    }
  }

  private onLine(line: string): void {
    this.opts.onLine?.(line);
    const events = this.reader.read(line);
    const record = this.active;
    if (record?.snapshot.state !== 'running') return;
    const job = record.snapshot;
    let changed = false;
    for (const event of events) {
      if (event.type === 'step') {
        const s = event.step;
        job.progress = {
          step: s.step,
          steps: s.steps,
          speed: s.speed,
          unit: s.unit,
          secondsPerStep: s.secondsPerStep,
          etaSeconds: Math.round((s.steps - s.step) * s.secondsPerStep * 100) / 100,
        };
        if (job.phase !== 'sampling') job.phase = 'sampling';
        changed = true;
      } else if (event.type === 'tile') {
        job.decode = { tile: event.step.step, tiles: event.step.steps };
        changed = true;
      } else if (event.type === 'phase') {
        job.phase = event.phase;
        job.phaseDetail = event.detail;
        changed = true;
      }
    }
    if (changed) this.emit({ type: 'progress', job });
  }

  // ---- jobs ----

  private async pump(): Promise<void> {
    if (this.status !== 'ready' || this.active || this.pending.length === 0) return;
    const id = this.pending[0];
    const record = id === undefined ? undefined : this.jobs.get(id);
    if (!record) {
      this.pending.shift();
      return void this.pump();
    }
    this.active = record;
    const { path: apiPath, body } = nativeBody(record.native);
    let res: Response;
    try {
      res = await this.sdFetch(apiPath, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    } catch (err) {
      this.active = undefined;
      if (this.status === 'ready') setTimeout(() => void this.pump(), RETRY_429_MS);
      this.opts.onNotice?.(`submit failed: ${messageOf(err)}`);
      return;
    }
    const text = await res.text();
    if (record.snapshot.state !== 'queued') {
      this.active = undefined;
      return void this.pump();
    }
    if (res.status === 429) {
      // sd-server's queue is full: keep the job queued here and try again.
      this.active = undefined;
      record.attempts429 += 1;
      if (record.attempts429 === 1)
        record.snapshot.notes.push('sd-server answered 429 (its queue was full); the job waited and was resubmitted.');
      setTimeout(() => void this.pump(), RETRY_429_MS * Math.min(record.attempts429, 10));
      return;
    }
    this.pending.shift();
    if (res.status !== 202) {
      this.active = undefined;
      this.finish(record, 'failed', { message: `sd-server refused the job (${res.status}): ${text.slice(0, 500)}` });
      return void this.pump();
    }
    const accepted = JSON.parse(text) as { id?: string };
    record.sdJobId = accepted.id;
    record.snapshot.state = 'running';
    record.snapshot.phase = 'conditioning';
    record.snapshot.startedAt = new Date().toISOString();
    this.reader.resetStage('conditioning');
    this.emit({ type: 'state', job: record.snapshot });
    this.poll(record);
  }

  private poll(record: JobRecord): void {
    this.pollTimer = setTimeout(() => void this.pollOnce(record), POLL_MS);
  }

  private async pollOnce(record: JobRecord): Promise<void> {
    if (this.active !== record || record.snapshot.state !== 'running' || this.stopping) return;
    let sd: SdJob;
    try {
      const res = await this.sdFetch(`/sdcpp/v1/jobs/${String(record.sdJobId)}`);
      if (res.status !== 200) {
        await res.arrayBuffer();
        if (res.status === 404 || res.status === 410) {
          this.finish(record, 'failed', { message: `sd-server lost the job (${res.status})` });
          this.active = undefined;
          return void this.pump();
        }
        return this.poll(record);
      }
      sd = (await res.json()) as SdJob;
    } catch {
      // sd-server is busy or gone: the exit handler deals with a crash.
      if (this.process && !this.process.hasExited) this.poll(record);
      return;
    }
    if (this.active !== record || record.snapshot.state !== 'running') return;
    if (sd.status === 'completed') {
      try {
        await this.takeResult(record, sd);
        this.finish(record, 'completed');
      } catch (err) {
        this.finish(record, 'failed', { message: `could not read the result: ${messageOf(err)}` });
      }
    } else if (sd.status === 'failed' || sd.status === 'cancelled') {
      this.finish(record, sd.status === 'failed' ? 'failed' : 'cancelled', {
        message: sd.error?.message ?? sd.status,
        logTail: this.process?.logTail().slice(-20) ?? [],
      });
    } else {
      return this.poll(record);
    }
    this.active = undefined;
    void this.pump();
  }

  private async takeResult(record: JobRecord, sd: SdJob): Promise<void> {
    const job = record.snapshot;
    const { stored, summary } = await takeResult(job, sd.result ?? undefined, { env: this.env, outputDir: this.opts.outputDir });
    record.result = stored;
    job.result = summary;
  }

  private finish(record: JobRecord, state: 'completed' | 'failed' | 'cancelled', error?: JobSnapshot['error']): void {
    const job = record.snapshot;
    if (job.state === 'completed' || job.state === 'failed' || job.state === 'cancelled') return;
    job.state = state;
    job.phase = 'done';
    job.finishedAt = new Date().toISOString();
    if (error) job.error = error;
    if (this.active === record) this.active = undefined;
    // Its snapshot goes on disk beside the results, so a restarted service still lists it.
    const write = saveJobRecord(this.opts.outputDir, job)
      .catch((err: unknown) => this.opts.onNotice?.(`could not record job ${job.id}: ${messageOf(err)}`))
      .finally(() => this.recordWrites.delete(write));
    this.recordWrites.add(write);
    this.emit({ type: 'state', job });
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((r) => ['completed', 'failed', 'cancelled'].includes(r.snapshot.state));
    for (const r of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED_JOBS))) {
      this.jobs.delete(r.snapshot.id);
      this.saved.set(r.snapshot.id, r.snapshot);
    }
    const extra = this.saved.size - SAVED_JOBS_LISTED;
    if (extra > 0) for (const id of [...this.saved.keys()].slice(0, extra)) this.saved.delete(id);
  }

  private emit(event: JobEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private sdFetch(urlPath: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.port}${urlPath}`, { ...init, signal: AbortSignal.timeout(30_000) });
  }
}
