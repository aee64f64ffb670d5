import { runDiffusionService, type DiffusionServiceOptions } from '../diffusion/run-service.js';

/** The image service (Flux.1 and friends): text-to-image over the shared sd.cpp adapter. */
export function runImageService(opts: Omit<DiffusionServiceOptions, 'media'>): Promise<number> {
  return runDiffusionService({ ...opts, media: 'image' });
}
