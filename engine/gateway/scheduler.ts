import PQueue from 'p-queue';
import { messageOf } from '../core/errors.js';
import type { AppStatus, Supervisor } from '../supervisor/index.js';
import { GatewayError } from './gateway-error.js';
import { describeKeepAlive, FOREVER } from './keep-alive.js';
import type { GatewayModel } from './models.js';

/** How the gateway starts an app: the same path as `orchard start` (start scripts, spec, diagnoser). */
export type StartApp = (appId: string) => Promise<AppStatus>;

export interface SchedulerOptions {
  supervisor: Supervisor;
  start: StartApp;
  /** The memory loaded models may use together (read at every load, so settings apply at once). */
  budgetBytes: () => number;
  /** Keep-alive when neither the request nor the app's settings give one. */
  defaultKeepAliveMs: () => number;
  appKeepAliveMs: (appId: string) => number | undefined;
  maxQueue: () => number;
  log: (line: string) => void;
}

/** What a request holds while it runs on a model; release it exactly once. */
export interface Lease {
  port: number;
  model: GatewayModel;
  /** Epoch ms the model became ready for this request (after any load). */
  readyAt: number;
  /** ms spent starting the model for this request (0 when it was loaded). */
  loadMs: number;
  /** Requests that were ahead of this one in its model's queue when it arrived. */
  queuePosition: number;
  release(stats?: { completionTokens?: number; firstTokenAt?: number; endedAt?: number; failed?: boolean }): void;
}

interface Slot {
  model: GatewayModel;
  state: 'loading' | 'ready';
  port: number | undefined;
  loading: Promise<number> | undefined;
  /** Started by the gateway (it may unload it); false for an app the user started by hand. */
  byGateway: boolean;
  queue: PQueue;
  /** Requests that hold or wait for this model (it is idle at 0). */
  holders: number;
  lastUsed: number;
  keepAliveMs: number;
  expiresAt: number | undefined;
  timer: NodeJS.Timeout | undefined;
  loadedAt: number | undefined;
  requests: number;
  completionTokens: number;
  tokensPerSecond: number | undefined;
}

/** One loaded (or loading) model as `orchard ps`, GET /api/v1/gateway and /api/ps report it. */
export interface LoadedModel {
  id: string;
  name: string;
  kind: GatewayModel['kind'];
  /** unloading: being stopped (its memory is not free yet). */
  state: 'loading' | 'ready' | 'unloading';
  startedBy: 'gateway' | 'user';
  port?: number;
  predictedBytes: number;
  budgetBytes: number;
  measuredBytes?: number;
  /** Epoch ms when it unloads if still idle; absent while busy or when kept forever. */
  expiresAt?: number;
  keepAlive: string;
  active: number;
  queued: number;
  requests: number;
  completionTokens: number;
  tokensPerSecond?: number;
  loadedAt?: number;
  lastUsedAt: number;
}

/**
 * Loads models on demand, keeps them within the memory budget, queues requests per model and
 * unloads idle models once their keep-alive has passed (DESIGN §10).
 *
 * - A request for a stopped model starts its app through the supervisor; concurrent requests wait
 *   on the same start.
 * - Before a load, the fit predictions of the loaded models plus the new one must fit the budget:
 *   idle models the gateway loaded are unloaded, least recently used first; when even that is not
 *   enough the request gets a 503 naming the models that hold the memory.
 * - Each model runs as many requests at once as its service has sequences (--parallel); the rest
 *   wait in a p-queue, in order.
 */
export class Scheduler {
  private readonly slots = new Map<string, Slot>();
  /** Models being stopped: their memory is not free until their process is gone. */
  private readonly unloading = new Map<string, { model: GatewayModel; done: Promise<void> }>();
  /** Budget decisions one at a time, so two loads never both pass the same check. */
  private lock: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly onStatus = (status: AppStatus): void => {
    const slot = this.slots.get(status.app);
    if (!slot || slot.state !== 'ready') return;
    if (status.state === 'stopped' || status.state === 'crashed') {
      this.options.log(`gateway: ${status.app} is no longer running (${status.state}); it is unloaded`);
      this.forget(slot);
    }
  };

  constructor(private readonly options: SchedulerOptions) {
    options.supervisor.on('status', this.onStatus);
  }

  /**
   * Wait until `model` is loaded and it is this request's turn. `known` is every installed model
   * (apps running without the gateway are counted against the budget too).
   */
  async acquire(model: GatewayModel, o: { keepAliveMs?: number; signal: AbortSignal; known: GatewayModel[] }): Promise<Lease> {
    if (this.closed) throw new GatewayError(503, 'the gateway is shutting down');
    const arrived = Date.now();
    // A loaded model needs no budget decision: skip the queue of loads and evictions.
    const loaded = this.slots.get(model.id);
    const slot = loaded && !this.unloading.has(model.id) ? loaded : await this.serialised(() => this.ensure(model, o.known));
    slot.holders++;
    this.clearTimer(slot);
    let released = false;
    let finish: (() => void) | undefined;
    const giveUp = (): void => {
      if (released) return;
      released = true;
      finish?.();
      slot.holders--;
      this.afterUse(slot, o.keepAliveMs);
    };
    try {
      const port =
        slot.state === 'ready' && slot.port !== undefined
          ? slot.port
          : await abortable(slot.loading ?? Promise.reject(new Error('no load')), o.signal);
      const readyAt = Date.now();
      const queuePosition = slot.queue.size + (slot.queue.pending >= slot.queue.concurrency ? 1 : 0);
      if (queuePosition > 0 && slot.queue.size >= this.options.maxQueue()) {
        throw new GatewayError(503, `${model.id} has ${slot.queue.size} requests waiting already (gateway.maxQueue)`, {
          code: 'queue_full',
        });
      }
      const running = new Promise<void>((started) => {
        slot.queue
          .add(
            () =>
              new Promise<void>((done) => {
                finish = done;
                started();
              }),
            { signal: o.signal },
          )
          .catch(() => undefined);
      });
      await abortable(running, o.signal);
      slot.requests++;
      return {
        port,
        model,
        readyAt,
        loadMs: readyAt - arrived,
        queuePosition,
        release: (stats) => {
          if (released) return;
          if (stats?.completionTokens !== undefined && stats.completionTokens > 0) {
            slot.completionTokens += stats.completionTokens;
            if (
              stats.firstTokenAt !== undefined &&
              stats.endedAt !== undefined &&
              stats.completionTokens > 1 &&
              stats.endedAt > stats.firstTokenAt
            ) {
              slot.tokensPerSecond = Math.round((((stats.completionTokens - 1) * 1000) / (stats.endedAt - stats.firstTokenAt)) * 10) / 10;
            }
          }
          giveUp();
        },
      };
    } catch (err) {
      giveUp();
      throw err;
    }
  }

  /** Unload a model now (requests still running on it are cut off). */
  async unload(appId: string, reason = 'unloaded on request'): Promise<boolean> {
    const slot = this.slots.get(appId);
    if (!slot) {
      await this.unloading.get(appId)?.done;
      return false;
    }
    await this.stopSlot(slot, reason);
    return true;
  }

  /** Apply a request's keep-alive to an idle model without running anything (Ollama's load/unload). */
  touch(appId: string, keepAliveMs: number | undefined): void {
    const slot = this.slots.get(appId);
    if (slot && slot.holders === 0) this.afterUse(slot, keepAliveMs);
  }

  isLoaded(appId: string): boolean {
    return this.slots.get(appId)?.state === 'ready';
  }

  list(): LoadedModel[] {
    const now = Date.now();
    const stopping = [...this.unloading.values()].map(
      ({ model }): LoadedModel => ({
        id: model.id,
        name: model.name,
        kind: model.kind,
        state: 'unloading',
        startedBy: 'gateway',
        predictedBytes: model.prediction?.total ?? model.budgetBytes,
        budgetBytes: model.budgetBytes,
        keepAlive: 'now',
        active: 0,
        queued: 0,
        requests: 0,
        completionTokens: 0,
        lastUsedAt: now,
      }),
    );
    return [...this.slots.values()]
      .map((s): LoadedModel => {
        const measured = this.options.supervisor.metrics(s.model.id)?.rssBytes;
        return {
          id: s.model.id,
          name: s.model.name,
          kind: s.model.kind,
          state: s.state,
          startedBy: s.byGateway ? 'gateway' : 'user',
          ...(s.port !== undefined ? { port: s.port } : {}),
          predictedBytes: s.model.prediction?.total ?? s.model.budgetBytes,
          budgetBytes: s.model.budgetBytes,
          ...(measured !== undefined ? { measuredBytes: measured } : {}),
          ...(s.expiresAt !== undefined ? { expiresAt: s.expiresAt } : {}),
          keepAlive:
            s.holders > 0
              ? 'busy'
              : s.expiresAt !== undefined
                ? describeKeepAlive(s.expiresAt - now)
                : s.keepAliveMs === FOREVER
                  ? 'forever'
                  : 'now',
          active: s.queue.pending,
          queued: s.queue.size,
          requests: s.requests,
          completionTokens: s.completionTokens,
          ...(s.tokensPerSecond !== undefined ? { tokensPerSecond: s.tokensPerSecond } : {}),
          ...(s.loadedAt !== undefined ? { loadedAt: s.loadedAt } : {}),
          lastUsedAt: s.lastUsed,
        };
      })
      .concat(stopping);
  }

  /** Loaded, loading and still-stopping models: all of them hold memory. */
  usedBytes(): number {
    let used = 0;
    for (const s of this.slots.values()) used += s.model.budgetBytes;
    for (const u of this.unloading.values()) used += u.model.budgetBytes;
    return used;
  }

  /** Stop listening and unload what the gateway loaded (apps the user started keep running). */
  async close(): Promise<void> {
    this.closed = true;
    this.options.supervisor.off('status', this.onStatus);
    await Promise.all([...this.slots.values()].filter((s) => s.byGateway).map((s) => this.stopSlot(s, 'the gateway is closing')));
    for (const s of this.slots.values()) this.clearTimer(s);
    this.slots.clear();
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async ensure(model: GatewayModel, known: GatewayModel[]): Promise<Slot> {
    const pending = this.unloading.get(model.id);
    if (pending) await pending.done;
    const existing = this.slots.get(model.id);
    if (existing) return existing;
    this.adoptRunning(known);
    const adopted = this.slots.get(model.id);
    if (adopted) return adopted;
    await this.makeRoom(model);
    const slot = this.newSlot(model, true);
    slot.loading = this.load(slot);
    // Waiters see the failure; nobody waiting must not turn it into an unhandled rejection.
    slot.loading.catch(() => undefined);
    this.slots.set(model.id, slot);
    return slot;
  }

  private newSlot(model: GatewayModel, byGateway: boolean): Slot {
    return {
      model,
      state: 'loading',
      port: undefined,
      loading: undefined,
      byGateway,
      queue: new PQueue({ concurrency: Math.max(1, model.parallel) }),
      holders: 0,
      lastUsed: Date.now(),
      keepAliveMs: byGateway ? (this.options.appKeepAliveMs(model.id) ?? this.options.defaultKeepAliveMs()) : FOREVER,
      expiresAt: undefined,
      timer: undefined,
      loadedAt: undefined,
      requests: 0,
      completionTokens: 0,
      tokensPerSecond: undefined,
    };
  }

  /** Apps started by hand (`orchard start`, the UI) hold memory too: count them, never unload them unasked. */
  private adoptRunning(known: GatewayModel[]): void {
    for (const m of known) {
      if (this.slots.has(m.id) || this.unloading.has(m.id)) continue;
      const status = this.options.supervisor.status(m.id);
      if ((status.state === 'ready' || status.state === 'unhealthy') && status.port !== undefined) {
        const slot = this.newSlot(m, false);
        slot.state = 'ready';
        slot.port = status.port;
        slot.loadedAt = status.readyAt ?? Date.now();
        this.slots.set(m.id, slot);
        this.options.log(`gateway: ${m.id} was started outside the gateway; it is routed to and counted in the memory budget`);
      }
    }
  }

  private async load(slot: Slot): Promise<number> {
    const id = slot.model.id;
    const started = Date.now();
    this.options.log(`gateway: loading ${id} (${gib(slot.model.budgetBytes)} predicted)`);
    try {
      let status = await this.options.start(id);
      if (status.state === 'starting') status = await this.readiness(id);
      if (status.state !== 'ready' && status.state !== 'unhealthy') throw new Error(status.error ?? `${id} is ${status.state}`);
      if (status.port === undefined) throw new Error(`${id} is running without a port`);
      slot.state = 'ready';
      slot.port = status.port;
      slot.loadedAt = Date.now();
      slot.loading = undefined;
      this.options.log(`gateway: ${id} is ready on port ${status.port} after ${Date.now() - started} ms`);
      return status.port;
    } catch (err) {
      if (this.slots.get(id) === slot) this.slots.delete(id);
      this.clearTimer(slot);
      this.options.log(`gateway: loading ${id} failed: ${messageOf(err).split('\n')[0] ?? ''}`);
      throw new GatewayError(503, `${id} could not be started: ${messageOf(err)}`, { code: 'model_load_failed' });
    }
  }

  /** An app another caller is starting: wait for its ready (or failed) status. */
  private readiness(id: string): Promise<AppStatus> {
    const sup = this.options.supervisor;
    return new Promise((resolve) => {
      const check = (status: AppStatus): void => {
        if (status.app !== id || status.state === 'starting') return;
        sup.off('status', check);
        resolve(status);
      };
      sup.on('status', check);
      check(sup.status(id));
    });
  }

  private async makeRoom(model: GatewayModel): Promise<void> {
    const budget = this.options.budgetBytes();
    if (model.budgetBytes > budget) {
      throw new GatewayError(
        503,
        `${model.id} needs ${gib(model.budgetBytes)} (its fit prediction), more than the whole memory budget of ${gib(budget)}`,
        {
          code: 'insufficient_memory',
        },
      );
    }
    let used = this.usedBytes();
    if (used + model.budgetBytes <= budget) return;
    if (this.unloading.size > 0) {
      // Models on their way out: their memory is free once their processes have exited.
      await Promise.all([...this.unloading.values()].map((u) => u.done));
      used = this.usedBytes();
      if (used + model.budgetBytes <= budget) return;
    }
    const idle = [...this.slots.values()]
      .filter((s) => s.byGateway && s.state === 'ready' && s.holders === 0)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    const freeable = idle.reduce((sum, s) => sum + s.model.budgetBytes, 0);
    if (used - freeable + model.budgetBytes > budget) {
      const holders = [...this.slots.values()].map((s) => `${s.model.id} (${gib(s.model.budgetBytes)}, ${this.describeUse(s)})`);
      throw new GatewayError(
        503,
        `not enough memory to load ${model.id}: it needs ${gib(model.budgetBytes)}, the budget is ${gib(budget)} ` +
          `and ${gib(used)} is held by ${holders.join(', ')}. ` +
          'Retry when those requests have finished, unload a model (`orchard ps` lists them; the Models page has Unload buttons; ' +
          '`orchard stop <id>` for one you started), or raise gateway.memoryBudgetBytes in orchard.json.',
        { code: 'insufficient_memory' },
      );
    }
    for (const slot of idle) {
      if (used + model.budgetBytes <= budget) break;
      await this.stopSlot(slot, `evicted (least recently used) to make room for ${model.id}`);
      used -= slot.model.budgetBytes;
    }
  }

  private describeUse(s: Slot): string {
    if (s.state === 'loading') return 'loading';
    if (!s.byGateway) return 'started by hand';
    if (s.holders > 0) return `busy: ${s.queue.pending} running, ${s.queue.size} queued`;
    return 'idle';
  }

  private afterUse(slot: Slot, keepAliveMs: number | undefined): void {
    slot.lastUsed = Date.now();
    if (keepAliveMs !== undefined) slot.keepAliveMs = keepAliveMs;
    if (slot.holders > 0 || this.slots.get(slot.model.id) !== slot) return;
    this.clearTimer(slot);
    if (slot.keepAliveMs === FOREVER) return;
    if (slot.state !== 'ready') return;
    if (slot.keepAliveMs <= 0) {
      void this.stopSlot(slot, 'keep-alive 0');
      return;
    }
    slot.expiresAt = Date.now() + slot.keepAliveMs;
    slot.timer = setTimeout(() => {
      if (slot.holders === 0) void this.stopSlot(slot, `idle for its keep-alive of ${describeKeepAlive(slot.keepAliveMs)}`);
    }, slot.keepAliveMs);
    slot.timer.unref();
  }

  private stopSlot(slot: Slot, reason: string): Promise<void> {
    const id = slot.model.id;
    const already = this.unloading.get(id);
    if (already) return already.done;
    this.forget(slot);
    this.options.log(`gateway: unloading ${id}: ${reason}`);
    const stopping = this.options.supervisor
      .stop(id)
      .then(
        () => undefined,
        (err: unknown) => this.options.log(`gateway: stopping ${id} failed: ${messageOf(err)}`),
      )
      .finally(() => this.unloading.delete(id));
    this.unloading.set(id, { model: slot.model, done: stopping });
    return stopping;
  }

  private forget(slot: Slot): void {
    this.clearTimer(slot);
    if (this.slots.get(slot.model.id) === slot) this.slots.delete(slot.model.id);
  }

  private clearTimer(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = undefined;
    slot.expiresAt = undefined;
  }
}

function gib(bytes: number): string {
  const GiB = 1024 ** 3;
  return bytes >= GiB ? `${(bytes / GiB).toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}

/** The promise, or a 499-style cancellation when the client goes away first. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new GatewayError(499, 'the client went away', { code: 'cancelled' }));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new GatewayError(499, 'the client went away', { code: 'cancelled' }));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
