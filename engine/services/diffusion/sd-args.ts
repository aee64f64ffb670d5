import type { JobRequest } from './diffusion-engine.js';
import type { SdBackend } from './sd-backend.js';

export type ServiceMedia = 'image' | 'video';

/** One model set for one sd-server process. Paths are absolute; optional parts are omitted. */
export interface ModelSet {
  diffusionModel: string;
  vae?: string;
  clipL?: string;
  t5xxl?: string;
  clipVision?: string;
  highNoiseDiffusionModel?: string;
}

export interface ServerLaunch {
  media: ServiceMedia;
  models: ModelSet;
  backend: SdBackend;
  port: number;
  offloadToCpu?: boolean;
  diffusionFa?: boolean;
  /** Passed through verbatim after ours (argv items, never a shell string). */
  extraArgs?: string[];
  /** The app's own defaults for jobs that leave a field out (Flux schnell: 4 steps; Wan 2.1: 16 fps). */
  jobDefaults?: Partial<JobDefaults>;
}

export interface JobDefaults {
  width: number;
  height: number;
  steps: number;
  cfg: number;
  frames: number;
  fps: number;
}

/**
 * sd-server's argv. Always an explicit --backend (never auto: it silently picks the CPU in a CPU-only
 * build, while an explicit missing device fails loudly), always loopback, always -v so the DEBUG
 * compute-buffer lines that prove placement are printed.
 */
export function serverArgs(launch: ServerLaunch): string[] {
  const { models } = launch;
  const args: string[] = [];
  if (launch.media === 'video') args.push('-M', 'vid_gen');
  args.push('--diffusion-model', models.diffusionModel);
  if (models.highNoiseDiffusionModel) args.push('--high-noise-diffusion-model', models.highNoiseDiffusionModel);
  if (models.vae) args.push('--vae', models.vae);
  if (models.clipL) args.push('--clip_l', models.clipL);
  if (models.t5xxl) args.push('--t5xxl', models.t5xxl);
  if (models.clipVision) args.push('--clip_vision', models.clipVision);
  args.push('--backend', launch.backend);
  if (launch.offloadToCpu) args.push('--offload-to-cpu');
  if (launch.diffusionFa) args.push('--diffusion-fa');
  args.push('--listen-ip', '127.0.0.1', '--listen-port', String(launch.port), '-v');
  args.push(...(launch.extraArgs ?? []));
  return args;
}

/** sd.cpp keeps the largest 4n+1 frame count not above the request (examples/server/api.md). */
export function normaliseFrames(requested: number): number {
  const n = Math.max(1, Math.floor(requested));
  return n - ((n - 1) % 4);
}

export const VIDEO_DEFAULTS = { width: 832, height: 480, frames: 33, fps: 16, steps: 20, cfg: 6 } as const;
export const IMAGE_DEFAULTS = { width: 1024, height: 1024, steps: 20, cfg: 1 } as const;

/** Apply defaults (the request's, else the app's, else ours) and normalisation: what the job will actually run with. */
export function effectiveRequest(request: JobRequest, app: Partial<JobDefaults> = {}): JobRequest {
  if (request.kind === 'text-to-image') {
    return {
      ...request,
      width: request.width ?? app.width ?? IMAGE_DEFAULTS.width,
      height: request.height ?? app.height ?? IMAGE_DEFAULTS.height,
      steps: request.steps ?? app.steps ?? IMAGE_DEFAULTS.steps,
      cfg: request.cfg ?? app.cfg ?? IMAGE_DEFAULTS.cfg,
      seed: request.seed ?? -1,
    };
  }
  return {
    ...request,
    width: request.width ?? app.width ?? VIDEO_DEFAULTS.width,
    height: request.height ?? app.height ?? VIDEO_DEFAULTS.height,
    steps: request.steps ?? app.steps ?? VIDEO_DEFAULTS.steps,
    cfg: request.cfg ?? app.cfg ?? VIDEO_DEFAULTS.cfg,
    seed: request.seed ?? -1,
    frames: normaliseFrames(request.frames ?? app.frames ?? VIDEO_DEFAULTS.frames),
    fps: request.fps ?? app.fps ?? VIDEO_DEFAULTS.fps,
  };
}

/** The native request body (`POST /sdcpp/v1/img_gen` or `vid_gen`) for an effective request. */
export function nativeBody(request: JobRequest): { path: '/sdcpp/v1/img_gen' | '/sdcpp/v1/vid_gen'; body: Record<string, unknown> } {
  const common = {
    prompt: request.prompt,
    negative_prompt: request.negative ?? '',
    width: request.width,
    height: request.height,
    seed: request.seed,
    sample_params: { sample_steps: request.steps, guidance: { txt_cfg: request.cfg } },
  };
  if (request.kind === 'text-to-image') {
    return { path: '/sdcpp/v1/img_gen', body: { ...common, batch_count: 1, output_format: 'png' } };
  }
  return {
    path: '/sdcpp/v1/vid_gen',
    body: {
      ...common,
      video_frames: request.frames,
      fps: request.fps,
      output_format: 'webm',
      ...(request.kind === 'image-to-video' && request.initImage ? { init_image: request.initImage } : {}),
    },
  };
}
