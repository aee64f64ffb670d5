import { randomUUID } from 'node:crypto';
import PQueue from 'p-queue';
import { OrchardError, isOrchardError, messageOf } from '../core/errors.js';
import type { Emit, ProgressEvent } from '../core/events.js';
import type { Job, ServerMessage } from './api-types.js';
import { errorBody } from './http-errors.js';

export type JobOperation = Job['operation'];
export type JobRunner = (emit: Emit, signal: AbortSignal) => Promise<void>;

const KEEP_FINISHED = 100;
/** Download progress is published at most this often per file (the last one always goes out). */
const DOWNLOAD_PUBLISH_MS = 250;

/**
 * Install, update and uninstall run as jobs: at most one per app at a time (a second one is a 409),
 * at most `concurrency` at once overall (the rest wait their turn, shown as running with no step yet).
 * Every progress event updates the job and is published to the WebSocket.
 */
export class JobManager {
  private readonly jobs = new Map<string, Job>();
  private readonly activeByApp = new Map<string, string>();
  private readonly controllers = new Map<string, AbortController>();
  private readonly queue: PQueue;

  constructor(
    concurrency: number,
    private readonly publish: (message: ServerMessage) => void,
  ) {
    this.queue = new PQueue({ concurrency });
  }

  setConcurrency(n: number): void {
    this.queue.concurrency = n;
  }

  /**
   * Start a job at once; it runs in the background. `steps` are the planned steps (shown pending),
   * `weightFiles` the plan's weight id → file name. Throws LOCKED when the app already has a job running.
   */
  start(app: string, operation: JobOperation, steps: Job['steps'], weightFiles: Record<string, string>, run: JobRunner): Job {
    const busy = this.activeByApp.get(app);
    if (busy) {
      const other = this.jobs.get(busy);
      throw new OrchardError('LOCKED', `${app} already has a ${other?.operation ?? ''} job running (${busy})`, {
        where: `app ${app}`,
        hint: 'Wait for it to finish (GET /api/v1/jobs/<id>), then try again.',
      });
    }
    const job: Job = {
      id: randomUUID(),
      app,
      operation,
      state: 'running',
      startedAt: new Date().toISOString(),
      steps: steps.map((s) => ({ ...s })),
      downloads: {},
      ...(Object.keys(weightFiles).length > 0 ? { weightFiles: { ...weightFiles } } : {}),
    };
    this.jobs.set(job.id, job);
    this.activeByApp.set(app, job.id);
    const controller = new AbortController();
    this.controllers.set(job.id, controller);
    this.publish({ type: 'job', job: snapshot(job) });

    const lastDownload = new Map<string, number>();
    const emit: Emit = (event: ProgressEvent) => this.onEvent(job, event, lastDownload);
    void this.queue
      .add(() => run(emit, controller.signal))
      .then(
        () => this.finish(job, undefined),
        (err: unknown) => this.finish(job, err),
      );
    return snapshot(job);
  }

  get(id: string): Job | undefined {
    const job = this.jobs.get(id);
    return job ? snapshot(job) : undefined;
  }

  list(): Job[] {
    return [...this.jobs.values()].map(snapshot);
  }

  /** The running job of an app, if any. */
  activeFor(app: string): Job | undefined {
    const id = this.activeByApp.get(app);
    return id ? this.get(id) : undefined;
  }

  /** Cancel every running job and wait until they have stopped (server shutdown). */
  async close(): Promise<void> {
    for (const controller of this.controllers.values())
      controller.abort(new OrchardError('CANCELLED', 'the Orchard server is shutting down'));
    this.queue.clear();
    await this.queue.onIdle();
  }

  private onEvent(job: Job, event: ProgressEvent, lastDownload: Map<string, number>): void {
    switch (event.type) {
      case 'step': {
        const { type: _type, app: _app, ...rest } = event;
        const entry = {
          key: event.step,
          kind: event.kind,
          title: event.title,
          status: event.status,
          ...(event.elapsedMs !== undefined ? { elapsedMs: event.elapsedMs } : {}),
          ...(event.message !== undefined ? { message: event.message } : {}),
        };
        const index = job.steps.findIndex((s) => s.key === event.step);
        if (index >= 0) job.steps[index] = entry;
        else job.steps.push(entry);
        this.publish({ type: 'step', job: job.id, app: event.app, ...stripUndefined(rest) } as ServerMessage);
        return;
      }
      case 'download': {
        const { type: _type, ...rest } = event;
        job.downloads[event.file] = rest;
        const now = Date.now();
        if (!event.done && now - (lastDownload.get(event.file) ?? 0) < DOWNLOAD_PUBLISH_MS) return;
        lastDownload.set(event.file, now);
        this.publish({ type: 'download', job: job.id, ...rest });
        return;
      }
      case 'log': {
        const { type: _type, ...rest } = event;
        this.publish({ type: 'log', job: job.id, ...rest });
        return;
      }
    }
  }

  private finish(job: Job, err: unknown): void {
    job.finishedAt = new Date().toISOString();
    if (err === undefined) {
      job.state = 'succeeded';
    } else {
      job.state = 'failed';
      job.error = errorBody(err).body.error;
      if (!isOrchardError(err)) job.error = { code: 'INTERNAL', message: `the job failed unexpectedly: ${messageOf(err)}` };
    }
    // Steps still marked running or pending did not finish.
    for (const step of job.steps) if (step.status === 'running' && err !== undefined) step.status = 'failed';
    this.activeByApp.delete(job.app);
    this.controllers.delete(job.id);
    this.publish({ type: 'job', job: snapshot(job) });
    this.prune();
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => j.state !== 'running');
    for (const old of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(old.id);
  }
}

function snapshot(job: Job): Job {
  return structuredClone(job);
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
