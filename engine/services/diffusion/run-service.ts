import path from 'node:path';
import { once } from 'node:events';
import { OrchardError, messageOf } from '../../core/errors.js';
import { red } from '../../core/style.js';
import { createJobApi } from './job-api.js';
import type { ServerLaunch, ServiceMedia } from './sd-args.js';
import { SdCppEngine } from './sd-cpp-engine.js';

export interface DiffusionServiceOptions {
  media: ServiceMedia;
  sdServer: string;
  launch: Omit<ServerLaunch, 'port' | 'media'>;
  /** Orchard's job API port on 127.0.0.1. */
  port: number;
  maxQueue?: number;
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Where finished results are saved (outputsDir() decides the default). */
  outputDir: string;
}

const TAG = '[orchard-diffusion]';

/**
 * The standalone image/video service: preflight the device, start and supervise one sd-server, serve
 * the job API, stop cleanly on SIGTERM. Returns the exit code. Every sd-server line is echoed on our
 * stdout so the supervisor (and its diagnoser) see the engine's own words.
 */
export async function runDiffusionService(opts: DiffusionServiceOptions): Promise<number> {
  const say = (text: string): void => {
    process.stdout.write(`${TAG} ${text}\n`);
  };
  const engine = new SdCppEngine({
    sdServer: path.resolve(opts.sdServer),
    launch: { ...opts.launch, media: opts.media },
    ...(opts.env ? { env: opts.env } : {}),
    onLine: (line) => process.stdout.write(`${line}\n`),
    onNotice: say,
    ...(opts.maxQueue !== undefined ? { maxQueue: opts.maxQueue } : {}),
    ...(opts.readyTimeoutMs !== undefined ? { readyTimeoutMs: opts.readyTimeoutMs } : {}),
    outputDir: opts.outputDir,
  });
  say(`results are saved in ${opts.outputDir}`);

  const verdict = await engine.preflight();
  say(`preflight verdict: ${JSON.stringify(verdict)}`);
  if (verdict.fallback === 'full' && opts.launch.backend !== 'cpu') {
    process.stderr.write(
      red(`error: no ${opts.launch.backend} device: the ${opts.media} service would run on the CPU, so it does not start.\n`) +
        verdict.evidence.map((e) => `  evidence: ${e}\n`).join('') +
        verdict.advice.map((a) => `  fix:      ${a}\n`).join(''),
    );
    return 1;
  }

  const api = createJobApi(engine, opts.media);
  api.listen(opts.port, '127.0.0.1');
  await once(api, 'listening');
  say(`job API on http://127.0.0.1:${opts.port} (sd-server --backend ${opts.launch.backend})`);

  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string): Promise<void> => {
    stopping ??= (async () => {
      say(`${signal}: stopping sd-server`);
      api.close();
      api.closeAllConnections();
      await engine.stop();
      say('stopped');
    })();
    return stopping;
  };
  const stopped = new Promise<number>((resolve) => {
    // process.on, not once: execa's exit hook re-raises the signal when it thinks it is the only listener.
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => void shutdown(signal).then(() => resolve(0)));
    }
  });

  try {
    await engine.start();
    say('sd-server is ready');
  } catch (err) {
    if (stopping) return stopped;
    process.stderr.write(red(`error: ${err instanceof OrchardError ? err.format() : messageOf(err)}\n`));
    await shutdown('start failure');
    return 1;
  }
  return stopped;
}
