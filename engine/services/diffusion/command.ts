import { Option, type Command } from 'commander';
import { OrchardError } from '../../core/errors.js';
import { action } from '../../core/output.js';
import { integer, decimal } from '../../core/option-parsers.js';
import { outputsDir } from './result-files.js';
import { runDiffusionService } from './run-service.js';
import type { ServiceMedia } from './sd-args.js';
import { defaultSdBackend, SD_BACKENDS, toSdBackend } from './sd-backend.js';

interface DiffusionCliOptions {
  sdServer: string;
  diffusionModel: string;
  highNoiseDiffusionModel?: string;
  vae?: string;
  clipL?: string;
  clip_l?: string;
  t5xxl?: string;
  clipVision?: string;
  clip_vision?: string;
  backend?: string;
  port: number;
  offloadToCpu?: boolean;
  diffusionFa?: boolean;
  sdArg?: string[];
  outputs?: string;
  maxQueue: number;
  readyTimeout: number;
  width?: number;
  height?: number;
  steps?: number;
  cfgScale?: number;
  frames?: number;
  fps?: number;
}

/**
 * The diffusion services' command line, `service image ...` and `service video ...` (sd.cpp's
 * sd-server behind a job API): their entry point, which `orchard service` dispatches to.
 */
export function registerDiffusionServices(service: Command): void {
  for (const media of ['image', 'video'] as const) registerMedia(service, media);
}

function registerMedia(service: Command, media: ServiceMedia): void {
  const video = media === 'video';
  const cmd = service
    .command(media)
    .description(
      video
        ? 'Text/image-to-video job API on 127.0.0.1 over stable-diffusion.cpp in vid_gen mode (Wan 2.1/2.2)'
        : 'Text-to-image job API on 127.0.0.1 over stable-diffusion.cpp (Flux.1 …)',
    )
    .requiredOption('--sd-server <path>', 'the sd-server binary built for this machine')
    .requiredOption('--diffusion-model <file>', 'the diffusion model (GGUF or safetensors)');
  if (video) cmd.option('--high-noise-diffusion-model <file>', 'Wan 2.2 A14B: the high-noise model');
  cmd.option('--vae <file>', 'the VAE');
  if (!video) cmd.option('--clip-l <file>', 'the CLIP-L text encoder (Flux)');
  cmd.option('--t5xxl <file>', video ? 'the UMT5 text encoder' : 'the T5-XXL text encoder');
  if (video) cmd.option('--clip-vision <file>', 'the CLIP vision encoder (image-to-video)');
  // sd-server's own spellings, kept working for recipes written with them (not shown in --help).
  cmd.addOption(new Option('--clip_l <file>').hideHelp());
  cmd.addOption(new Option('--clip_vision <file>').hideHelp());
  cmd
    .option(
      '--backend <name>',
      `${SD_BACKENDS.join(' | ')}, or cuda / vulkan for their first device (default: metal on macOS, cuda0 elsewhere; never auto)`,
    )
    .requiredOption('--port <port>', 'the job API port on 127.0.0.1', integer('--port', 1, 65535))
    .option('--offload-to-cpu', 'keep weights in RAM, compute on the GPU (large models)')
    .option('--diffusion-fa', 'flash attention in the diffusion model')
    .option('--sd-arg <arg>', 'one more sd-server argument, passed verbatim (repeatable)', (v: string, all: string[] | undefined) => [
      ...(all ?? []),
      v,
    ])
    .option(
      '--outputs <dir>',
      "save every finished image/video here (default: the app's outputs/ folder when run as an app; else " +
        'ORCHARD_HOME/service-outputs/<media>)',
    )
    .addOption(new Option('--max-queue <n>', 'jobs that may wait; more get 429').default(8).argParser(integer('--max-queue', 1, 1000)))
    .addOption(
      new Option('--ready-timeout <seconds>', 'give up if sd-server has not loaded the model by then')
        .default(900)
        .argParser(integer('--ready-timeout', 1, 86_400)),
    )
    .option('--width <px>', "the app's default width for jobs that do not say", integer('--width', 64, 4096))
    .option('--height <px>', "the app's default height", integer('--height', 64, 4096))
    .option('--steps <n>', `the app's default sampling steps${video ? '' : ' (Flux schnell: 4)'}`, integer('--steps', 1, 500))
    .option('--cfg-scale <x>', "the app's default guidance scale", decimal('--cfg-scale', 0, 100));
  if (video) {
    cmd
      .option('--frames <n>', "the app's default frame count (normalised to 4n+1)", integer('--frames', 1, 1025))
      .option('--fps <n>', "the app's default frame rate (Wan 2.1: 16)", integer('--fps', 1, 120));
  }
  cmd.action(
    action(async (opts: DiffusionCliOptions) => {
      const backend = opts.backend === undefined ? defaultSdBackend() : toSdBackend(opts.backend);
      if (!backend)
        throw new OrchardError('USAGE', `--backend must be one of ${SD_BACKENDS.join(', ')} (or cuda, vulkan), not "${opts.backend}"`);
      const jobDefaults = {
        ...(opts.width !== undefined ? { width: opts.width } : {}),
        ...(opts.height !== undefined ? { height: opts.height } : {}),
        ...(opts.steps !== undefined ? { steps: opts.steps } : {}),
        ...(opts.cfgScale !== undefined ? { cfg: opts.cfgScale } : {}),
        ...(opts.frames !== undefined ? { frames: opts.frames } : {}),
        ...(opts.fps !== undefined ? { fps: opts.fps } : {}),
      };
      const clipL = opts.clipL ?? opts.clip_l;
      const clipVision = opts.clipVision ?? opts.clip_vision;
      const outputs = outputsDir(opts.outputs, process.env, media);
      const code = await runDiffusionService({
        media,
        sdServer: opts.sdServer,
        port: opts.port,
        maxQueue: opts.maxQueue,
        readyTimeoutMs: opts.readyTimeout * 1000,
        outputDir: outputs,
        launch: {
          backend,
          models: {
            diffusionModel: opts.diffusionModel,
            ...(opts.highNoiseDiffusionModel ? { highNoiseDiffusionModel: opts.highNoiseDiffusionModel } : {}),
            ...(opts.vae ? { vae: opts.vae } : {}),
            ...(clipL ? { clipL } : {}),
            ...(opts.t5xxl ? { t5xxl: opts.t5xxl } : {}),
            ...(clipVision ? { clipVision } : {}),
          },
          ...(opts.offloadToCpu ? { offloadToCpu: true } : {}),
          ...(opts.diffusionFa ? { diffusionFa: true } : {}),
          extraArgs: opts.sdArg ?? [],
          jobDefaults,
        },
      });
      process.exit(code);
    }),
  );
}
