import type { Command } from 'commander';
import { OrchardError } from '../../core/errors.js';
import { action } from '../../core/output.js';
import { outputsDir } from './result-files.js';
import { runDiffusionService } from './run-service.js';
import type { ServiceMedia } from './sd-args.js';
import { defaultSdBackend, SD_BACKENDS, toSdBackend } from './sd-backend.js';

interface DiffusionCliOptions {
  sdServer: string;
  diffusionModel: string;
  highNoiseDiffusionModel?: string;
  vae?: string;
  clip_l?: string;
  t5xxl?: string;
  clip_vision?: string;
  backend?: string;
  port: string;
  offloadToCpu?: boolean;
  diffusionFa?: boolean;
  sdArg: string[];
  outputs?: string;
  maxQueue: string;
  readyTimeout: string;
  width?: string;
  height?: string;
  steps?: string;
  cfgScale?: string;
  frames?: string;
  fps?: string;
}

/**
 * The diffusion services' command line, `service image ...` and `service video ...` (sd.cpp's
 * sd-server behind a job API): their entry point, which `orchard service` dispatches to.
 */
export function registerDiffusionServices(service: Command): void {
  for (const media of ['image', 'video'] as const) registerMedia(service, media);
}

function registerMedia(service: Command, media: ServiceMedia): void {
  service
    .command(media)
    .description(
      media === 'image'
        ? 'Text-to-image job API on 127.0.0.1 over stable-diffusion.cpp (Flux.1 …)'
        : 'Text/image-to-video job API on 127.0.0.1 over stable-diffusion.cpp in vid_gen mode (Wan 2.1/2.2)',
    )
    .requiredOption('--sd-server <path>', 'the sd-server binary built for this machine')
    .requiredOption('--diffusion-model <file>', 'the diffusion model (GGUF or safetensors)')
    .option('--high-noise-diffusion-model <file>', 'Wan 2.2 A14B: the high-noise model')
    .option('--vae <file>', 'the VAE')
    .option('--clip_l <file>', 'the CLIP-L text encoder (Flux)')
    .option('--t5xxl <file>', 'the T5-XXL / UMT5 text encoder')
    .option('--clip_vision <file>', 'the CLIP vision encoder (Wan image-to-video)')
    .option('--backend <name>', `${SD_BACKENDS.join(' | ')}, or cuda / vulkan for their first device (default: metal on macOS, cuda0 elsewhere; never auto)`)
    .requiredOption('--port <port>', 'the job API port on 127.0.0.1')
    .option('--offload-to-cpu', 'keep weights in RAM, compute on the GPU (large Wan models)')
    .option('--diffusion-fa', 'flash attention in the diffusion model')
    .option('--sd-arg <arg>', 'one more sd-server argument, passed verbatim (repeatable)', (v: string, all: string[]) => [...all, v], [])
    .option('--outputs <dir>', 'save every finished image/video here (default: the app\'s outputs/ folder when run as an app; else ORCHARD_HOME/service-outputs/<media>)')
    .option('--max-queue <n>', 'jobs that may wait; more get 429', '8')
    .option('--ready-timeout <seconds>', 'give up if sd-server has not loaded the model by then', '900')
    .option('--width <px>', "the app's default width for jobs that do not say")
    .option('--height <px>', "the app's default height")
    .option('--steps <n>', "the app's default sampling steps (Flux schnell: 4)")
    .option('--cfg-scale <x>', "the app's default guidance scale")
    .option('--frames <n>', "video: the app's default frame count (normalised to 4n+1)")
    .option('--fps <n>', "video: the app's default frame rate (Wan 2.1: 16)")
    .action(
      action(async (opts: DiffusionCliOptions) => {
        const backend = opts.backend === undefined ? defaultSdBackend() : toSdBackend(opts.backend);
        if (!backend) throw new OrchardError('USAGE', `--backend must be one of ${SD_BACKENDS.join(', ')} (or cuda, vulkan), not "${opts.backend}"`);
        const jobDefaults = {
          ...(opts.width !== undefined ? { width: int(opts.width, '--width', 64, 4096) } : {}),
          ...(opts.height !== undefined ? { height: int(opts.height, '--height', 64, 4096) } : {}),
          ...(opts.steps !== undefined ? { steps: int(opts.steps, '--steps', 1, 500) } : {}),
          ...(opts.cfgScale !== undefined ? { cfg: number(opts.cfgScale, '--cfg-scale', 0, 100) } : {}),
          ...(opts.frames !== undefined ? { frames: int(opts.frames, '--frames', 1, 1025) } : {}),
          ...(opts.fps !== undefined ? { fps: int(opts.fps, '--fps', 1, 120) } : {}),
        };
        const outputs = outputsDir(opts.outputs, process.env, media);
        const code = await runDiffusionService({
          media,
          sdServer: opts.sdServer,
          port: int(opts.port, '--port', 1, 65535),
          maxQueue: int(opts.maxQueue, '--max-queue', 1, 1000),
          readyTimeoutMs: int(opts.readyTimeout, '--ready-timeout', 1, 86_400) * 1000,
          outputDir: outputs,
          launch: {
            backend,
            models: {
              diffusionModel: opts.diffusionModel,
              ...(opts.highNoiseDiffusionModel ? { highNoiseDiffusionModel: opts.highNoiseDiffusionModel } : {}),
              ...(opts.vae ? { vae: opts.vae } : {}),
              ...(opts.clip_l ? { clipL: opts.clip_l } : {}),
              ...(opts.t5xxl ? { t5xxl: opts.t5xxl } : {}),
              ...(opts.clip_vision ? { clipVision: opts.clip_vision } : {}),
            },
            ...(opts.offloadToCpu ? { offloadToCpu: true } : {}),
            ...(opts.diffusionFa ? { diffusionFa: true } : {}),
            extraArgs: opts.sdArg,
            jobDefaults,
          },
        });
        process.exit(code);
      }),
    );
}

function int(value: string, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new OrchardError('USAGE', `${name} must be an integer from ${min} to ${max}, not "${value}"`);
  return n;
}

function number(value: string, name: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new OrchardError('USAGE', `${name} must be a number from ${min} to ${max}, not "${value}"`);
  return n;
}
