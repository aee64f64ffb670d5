import path from 'node:path';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { OrchardError } from '../../core/errors.js';
import { loadLlm, type GpuChoice } from './load-llm.js';
import { ServiceMetrics } from '../../openai/metrics.js';
import { SequencePool } from './sequence-pool.js';
import { createLlmServer } from './server.js';
import type { ServiceState } from './service-state.js';

export interface LlmServiceOptions {
  model: string;
  port: number;
  host: string;
  gpu: GpuChoice;
  contextSize?: number;
  parallel: number;
  threads?: number;
  loadTimeoutMs: number;
}

export interface RunningLlmService {
  state: ServiceState;
  url: string;
  stop(): Promise<void>;
}

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Load the model, serve the API on host:port, and report one start-up line. */
export async function startLlmService(o: LlmServiceOptions): Promise<RunningLlmService> {
  if (o.host !== '127.0.0.1' && o.host !== 'localhost' && o.host !== '::1') {
    throw new OrchardError('USAGE', `the LLM service only listens on the loopback interface, not ${o.host}`, {
      hint: 'Use --host 127.0.0.1 (the default).',
    });
  }
  const llm = await loadLlm({
    model: o.model,
    gpu: o.gpu,
    parallel: o.parallel,
    loadTimeoutMs: o.loadTimeoutMs,
    log,
    ...(o.contextSize ? { contextSize: o.contextSize } : {}),
    ...(o.threads ? { threads: o.threads } : {}),
  });
  const modelId = path.basename(llm.modelPath).replace(/(-\d{5}-of-\d{5})?\.gguf$/, '');
  const state: ServiceState = {
    llm,
    pool: new SequencePool(llm.context, o.parallel),
    metrics: new ServiceMetrics(),
    modelId,
    fingerprint: `orchard-llm-${llm.backend}`,
    parallel: o.parallel,
    embeddingQueue: Promise.resolve(),
  };
  const server = createLlmServer(state);
  server.listen(o.port, o.host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => {
      throw new OrchardError('SERVICE', `cannot listen on ${o.host}:${o.port}: ${(err as Error).message}`, {
        hint: 'Pick another --port.',
      });
    }),
  ]);
  // --port 0 lets the system pick a free port; the ready line and url carry the real one.
  const port = (server.address() as AddressInfo).port;
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  const vram = await llm.llama.getVramState().catch(() => undefined);
  const total = llm.model.fileInsights.totalLayers;
  log(
    `orchard llm ready: backend=${llm.backend} devices=${llm.devices.length > 0 ? llm.devices.join(', ') : 'none'} ` +
      `layers offloaded ${llm.model.gpuLayers}/${total} model=${modelId} context=${llm.contextSize}x${o.parallel} ` +
      `memory rss=${mib(process.memoryUsage().rss)} vram-used=${vram ? mib(vram.used) : 'n/a'} url=${url}` +
      (llm.backend === 'cpu' ? ' (CPU only: no GPU backend in use)' : ''),
  );

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      state.pool.rejectWaiting(new OrchardError('SERVICE', 'the service is stopping'));
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Cutting the connections aborts the generations in flight (each response's 'close'); the
      // model is freed only once they have given their sequences back: disposing under a running
      // generation throws DisposedError from inside the library and kills the process.
      server.closeAllConnections();
      await state.pool.whenIdle();
      await state.embeddingQueue;
      await closed;
      await llm.llama.dispose();
    })());
  return { state, url, stop };
}

/**
 * As a process: start, then on SIGTERM/SIGINT stop (refuse queued requests, cut open connections,
 * free the model) and exit 0 after the "stopped" line; exit 1 if that takes more than 3 s.
 *
 * The handlers stay installed (`on`, not `once`): node-llama-cpp loads signal-exit (through
 * proper-lockfile), whose handler re-raises the signal, killing the process mid-cleanup, as soon as
 * it finds itself the only listener. With `once`, a second signal (a supervisor that repeats
 * SIGTERM, or Ctrl-C reaching the whole process group) found it alone.
 */
export async function runLlmServiceProcess(o: LlmServiceOptions): Promise<void> {
  const service = await startLlmService(o);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log(`orchard llm: ${signal} again, still stopping`);
      return;
    }
    stopping = true;
    log(`orchard llm: ${signal}, stopping`);
    const force = setTimeout(() => {
      log('orchard llm: cleanup did not finish within 3 s; exiting anyway');
      process.exit(1);
    }, 3000);
    force.unref();
    service.stop().then(
      () => {
        log('orchard llm: stopped');
        process.exit(0);
      },
      (err: unknown) => {
        log(`orchard llm: stopping failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)}MiB`;
}
