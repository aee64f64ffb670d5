import type { Fact, Rule } from '../facts.js';

/**
 * ComfyUI start-up lines (comfy/model_management.py). Lines that taught these patterns:
 *   "Set vram state to: SHARED" + "Device: mps"                         (logtd/ComfyUI-MochiEdit#15, Comfy-Org/ComfyUI#2420)
 *   "Device: cuda:0 NVIDIA GeForce RTX 4090 : native"                   (Comfy-Org/ComfyUI#8010)
 *   "$ python main.py --cpu …" / "pytorch version: 2.10.0+cu130" /
 *   "Set vram state to: DISABLED" / "Device: cpu"                       (numz/ComfyUI-SeedVR2_VideoUpscaler#565)
 * `--cpu` or "Device: cpu" with a CUDA/MPS torch build means a GPU was there and was not used.
 */
export function comfyuiRule(): Rule {
  return {
    family: 'comfyui',
    scan(line) {
      const facts: Fact[] = [];
      const dev = /(?:^|\s|\])Device: (mps|cuda(?::\d+)?|cpu|xpu|privateuseone)\b/.exec(line);
      if (dev) {
        const d = dev[1] ?? '';
        if (d === 'mps') facts.push({ kind: 'gpu', backend: 'metal', line });
        else if (d.startsWith('cuda')) facts.push({ kind: 'gpu', backend: /rocm|hip|AMD Radeon/i.test(line) ? 'rocm' : 'cuda', line });
        else if (d === 'cpu') facts.push({ kind: 'cpu', wanted: false, line, advice: 'ComfyUI runs on the CPU: remove --cpu from its launch arguments and make sure the app environment has a CUDA (or MPS) torch build.' });
      }
      if (/Set vram state to: DISABLED/.test(line)) facts.push({ kind: 'cpu', wanted: false, line });
      if (/main\.py\b.*\s--cpu(\s|$)/.test(line)) facts.push({ kind: 'cpu', wanted: false, line, advice: 'ComfyUI was started with --cpu: remove the flag to use the GPU.' });
      const torch = /pytorch version: \S+\+(cu\d+|rocm[\d.]+)/i.exec(line);
      if (torch) facts.push({ kind: 'gpu-present', backend: torch[1]?.startsWith('cu') ? 'cuda' : 'rocm', line });
      return facts;
    },
  };
}
