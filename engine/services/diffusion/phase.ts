import type { JobPhase } from './diffusion-engine.js';

/**
 * Map sd.cpp's INFO phase lines (src/stable-diffusion.cpp at the pinned commit) to a coarse stage.
 * Returns undefined for lines that do not move the job to another stage.
 */
export function phaseOf(text: string): JobPhase | undefined {
  if (/^(generate_image|generate_video) \d+x\d+/.test(text) || /^TXT2IMG|^IMG2IMG|get_learned_condition/.test(text)) return 'conditioning';
  if (/^sampling using|^generating image: |^generate_video|offload params .* to runtime backend/.test(text)) return 'sampling';
  if (/^decoding \d+ latents|^decode_first_stage|latent \d+ decoded|generating latent video completed/.test(text)) return 'decoding';
  if (/^(generate_image|generate_video|txt2img|img2img) completed/.test(text)) return 'saving';
  if (/loading tensors|loading model|loading diffusion model/.test(text)) return 'loading';
  return undefined;
}
