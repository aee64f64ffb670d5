import { runDiffusionService, type DiffusionServiceOptions } from '../diffusion/run-service.js';

/** The video service (Wan 2.1/2.2): sd-server in vid_gen mode, text-to-video and image-to-video. */
export function runVideoService(opts: Omit<DiffusionServiceOptions, 'media'>): Promise<number> {
  return runDiffusionService({ ...opts, media: 'video' });
}
