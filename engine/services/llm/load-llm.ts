import { getLlama, type Llama, type LlamaContext, type LlamaModel } from 'node-llama-cpp';
import { OrchardError, messageOf } from '../../core/errors.js';
import { DEFAULT_CONTEXT } from '../../fit/llm-defaults.js';
import { resolveModelPath } from '../../fit/model-path.js';
import { readModelHeaders } from '../../fit/model-headers.js';
import { modelShape, type ModelShape } from '../../fit/model-shape.js';

export type GpuChoice = 'auto' | 'metal' | 'cuda' | 'vulkan' | 'cpu';

export interface LoadOptions {
  model: string;
  gpu: GpuChoice;
  contextSize?: number;
  parallel: number;
  threads?: number;
  loadTimeoutMs: number;
  log: (line: string) => void;
}

export interface LoadedLlm {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  modelPath: string;
  shape: ModelShape;
  backend: string;
  devices: string[];
  contextSize: number;
  threads: number | undefined;
  /** The process's RSS with the runtime and backends loaded but no model yet (what `fit` calls overhead). */
  rssBeforeModel: number;
}

/** Default context when none is given: the model's own, capped, so a 128k model does not reserve 128k of KV. */
export { DEFAULT_CONTEXT };

/**
 * Load a model the careful way: the header is read and checked by our bounded reader first (a
 * missing key would abort the process inside llama.cpp, garbage would hang its reader), the
 * prebuilt binary is required (never a source build), the backend asked for must be the one
 * loaded (the library quietly gives a CPU instance for "metal" on a non-Mac), and loading has a
 * deadline.
 */
export async function loadLlm(o: LoadOptions): Promise<LoadedLlm> {
  const modelPath = await resolveModelPath(o.model);
  const shape = modelShape(await withTimeout(readModelHeaders(modelPath), o.loadTimeoutMs, `reading the header of ${modelPath}`));

  let llama: Llama;
  try {
    llama = await getLlama({
      gpu: o.gpu === 'cpu' ? false : o.gpu,
      build: 'never',
      ...(o.threads !== undefined ? { maxThreads: o.threads } : {}),
      logLevel: 'warn' as never,
      logger: (_level, message) => o.log(`llama.cpp: ${message.trim()}`),
      progressLogs: false,
    });
  } catch (err) {
    throw new OrchardError('BACKEND', `the ${o.gpu} backend of node-llama-cpp is not available here: ${messageOf(err).split('\n')[0]}`, {
      where: 'node-llama-cpp 3.21.1 prebuilt binaries',
      hint:
        o.gpu === 'auto'
          ? 'Reinstall Orchard so the prebuilt binaries are present.'
          : `Run with --gpu auto (or cpu), or install the ${o.gpu} driver/runtime.`,
    });
  }
  if (llama.buildType !== 'prebuilt') {
    throw new OrchardError('BACKEND', `node-llama-cpp is using a local source build (${llama.buildType}), not its prebuilt binary`, {
      hint: 'Remove node_modules/node-llama-cpp/llama/localBuilds so the tested prebuilt binary is used.',
    });
  }
  const backend = llama.gpu === false ? 'cpu' : llama.gpu;
  if (o.gpu !== 'auto' && backend !== o.gpu) {
    await llama.dispose().catch(() => undefined);
    throw new OrchardError(
      'BACKEND',
      `--gpu ${o.gpu} was requested but node-llama-cpp loaded the ${backend} backend: ${o.gpu} is not available on this machine`,
      {
        where: `${process.platform}-${process.arch}`,
        hint:
          o.gpu === 'metal'
            ? 'Metal exists only on Apple Silicon Macs; use --gpu auto or cpu here.'
            : `Check the ${o.gpu} driver, or use --gpu auto or cpu.`,
      },
    );
  }
  const devices = await llama.getGpuDeviceNames().catch(() => [] as string[]);
  const rssBeforeModel = process.memoryUsage().rss;

  const model = await withTimeout(
    llama.loadModel({ modelPath, gpuLayers: o.gpu === 'cpu' ? 0 : o.gpu === 'auto' ? 'auto' : 'max' }),
    o.loadTimeoutMs,
    `loading ${modelPath}`,
  ).catch((err: unknown) => {
    if (err instanceof OrchardError) throw err;
    throw new OrchardError('MODEL', `llama.cpp could not load the model: ${messageOf(err)}`, {
      where: modelPath,
      hint: 'The file may be corrupt or of an architecture this llama.cpp does not know; download it again or pick another model.',
    });
  });
  const contextSize = o.contextSize ?? Math.min(shape.trainContext, DEFAULT_CONTEXT);
  const context = await model
    .createContext({ contextSize, sequences: o.parallel, ...(o.threads !== undefined ? { threads: o.threads } : {}) })
    .catch((err: unknown) => {
      throw new OrchardError('MODEL', `cannot create a context of ${contextSize} tokens × ${o.parallel} sequences: ${messageOf(err)}`, {
        where: modelPath,
        hint: 'Lower --context or --parallel (run `orchard fit` to see what fits).',
      });
    });
  return { llama, model, context, modelPath, shape, backend, devices, contextSize, threads: o.threads, rssBeforeModel };
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new OrchardError('MODEL', `timed out after ${Math.round(ms / 1000)} s ${what}; the file is probably corrupt`, {
            hint: 'Download the model again, or raise --load-timeout for a very slow disk.',
          }),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
