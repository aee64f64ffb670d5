import path from 'node:path';
import { once } from 'node:events';
import { OrchardError } from '../../core/errors.js';
import { loadLlm, type GpuChoice } from './load-llm.js';
import { ServiceMetrics } from './metrics.js';
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
    throw new OrchardError('USAGE', `the LLM service only listens on the loopback interface, not ${o.host}`, { hint: 'Use --host 127.0.0.1 (the default).' });
  }
  const llm = await loadLlm({ model: o.model, gpu: o.gpu, parallel: o.parallel, loadTimeoutMs: o.loadTimeoutMs, log, ...(o.contextSize ? { contextSize: o.contextSize } : {}), ...(o.threads ? { threads: o.threads } : {}) });
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
      throw new OrchardError('SERVICE', `cannot listen on ${o.host}:${o.port}: ${(err as Error).message}`, { hint: 'Pick another --port.' });
    }),
  ]);
  const vram = await llm.llama.getVramState().catch(() => undefined);
  const total = llm.model.fileInsights.totalLayers;
  log(
    `orchard llm ready: backend=${llm.backend} devices=${llm.devices.length > 0 ? llm.devices.join(', ') : 'none'} ` +
      `layers offloaded ${llm.model.gpuLayers}/${total} model=${modelId} context=${llm.contextSize}x${o.parallel} ` +
      `memory rss=${mib(process.memoryUsage().rss)} vram-used=${vram ? mib(vram.used) : 'n/a'} url=http://${o.host}:${o.port}` +
      (llm.backend === 'cpu' ? ' (CPU only: no GPU backend in use)' : ''),
  );

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      state.pool.rejectWaiting(new OrchardError('SERVICE', 'the service is stopping'));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await llm.llama.dispose().catch(() => undefined);
    })());
  return { state, url: `http://${o.host}:${o.port}`, stop };
}

/** As a process: start, then exit cleanly on SIGTERM/SIGINT within a few seconds. */
export async function runLlmServiceProcess(o: LlmServiceOptions): Promise<void> {
  const service = await startLlmService(o);
  const onSignal = (signal: NodeJS.Signals) => {
    log(`orchard llm: ${signal}, stopping`);
    const force = setTimeout(() => process.exit(0), 3000);
    force.unref();
    void service.stop().finally(() => process.exit(0));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)}MiB`;
}
