import type { Fact, GpuBackend, Rule } from '../facts.js';

/**
 * stable-diffusion.cpp (sd, sd-cli, sd-server, StableDiffusion.NET). Lines that taught these patterns:
 *   "[DEBUG] stable-diffusion.cpp:147  - Using CUDA backend"                  (leejet/stable-diffusion.cpp#298)
 *   "[INFO ] stable-diffusion.cpp:232  - CLIP: Using CPU backend"             (same; a module on the CPU)
 *   "LOG [Debug]: stable-diffusion.cpp:166  - Using Vulkan backend"           (DarthAffe/StableDiffusion.NET#30)
 *   "[DEBUG] stable-diffusion.cpp:4986 - Using CPU backend"                   (leejet/stable-diffusion.cpp#117)
 *   "ggml_extend.hpp:1050 - unet params backend buffer size =  2179.71 MB(VRAM)" (leejet/stable-diffusion.cpp#395)
 *   "[DEBUG] ggml_extend.hpp:1691 - vae compute buffer size: 1664.00 MB(RAM)" (leejet/stable-diffusion.cpp#1044)
 * A params buffer in RAM is not proof of CPU work (--offload-to-cpu parks weights in RAM); a
 * compute buffer in RAM or "X: Using CPU backend" is.
 */
export function sdCppRule(): Rule {
  return {
    family: 'stable-diffusion.cpp',
    scan(line) {
      const facts: Fact[] = [];
      const main = /- Using (\w+) backend/.exec(line);
      const module = /- (\w+): Using CPU backend/.exec(line);
      if (module) {
        facts.push({ kind: 'partial', line, advice: `stable-diffusion.cpp runs ${module[1]} on the CPU: drop --clip-on-cpu/--vae-on-cpu (or a "${(module[1] ?? '').toLowerCase()}=cpu" --backend entry) when the GPU has room.` });
      } else if (main) {
        const backend = sdBackend(main[1] ?? '');
        if (backend) facts.push({ kind: 'gpu', backend, line });
        else if ((main[1] ?? '').toUpperCase() === 'CPU') facts.push({ kind: 'cpu', wanted: false, line, advice: 'stable-diffusion.cpp uses its CPU backend: build it with -DSD_METAL=ON (macOS) or -DSD_CUDA=ON (NVIDIA) and pass --backend metal / cuda0.' });
      }
      if (/set (clip|vae)_on_cpu to true/.test(line)) facts.push({ kind: 'partial', line });
      if (/params backend buffer size = .*MB\(VRAM\)/.test(line)) facts.push({ kind: 'gpu-generic', line });
      if (/compute buffer size: .*MB\(RAM\)/.test(line)) facts.push({ kind: 'cpu', wanted: false, line, advice: 'A stable-diffusion.cpp compute buffer is in RAM, so that module computes on the CPU.' });
      if (/compute buffer size: .*MB\(VRAM\)/.test(line)) facts.push({ kind: 'gpu-generic', line });
      return facts;
    },
  };
}

function sdBackend(name: string): GpuBackend | undefined {
  const n = name.toLowerCase();
  if (n === 'cuda') return 'cuda';
  if (n === 'metal') return 'metal';
  if (n === 'vulkan') return 'vulkan';
  if (n === 'rocm' || n === 'hipblas') return 'rocm';
  return undefined;
}
