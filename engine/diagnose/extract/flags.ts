import type { Pattern } from '../facts.js';
import { backendOfLibrary } from './names.js';

/**
 * Flags on a command line that decide placement: a forced CPU start, a module pinned to the CPU,
 * or a request for GPU layers.
 */
export const flagPatterns: readonly Pattern[] = [
  // "$ python main.py --cpu …" (numz/ComfyUI-SeedVR2_VideoUpscaler#565); Forge's --always-cpu; --use-cpu all; --device cpu.
  // A command line is also what AUTOMATIC1111 and Forge echo as "Launching Web UI with arguments: …".
  {
    id: 'forced-cpu-flag',
    from: ['comfyui'],
    hint: ['--cpu', '--always-cpu', '--use-cpu', '--device'],
    re: /(?:(?:\.py|\.exe|\.bat|\.sh|\bpython\d*|\bcomfyui)\b|with arguments:)[^\n]*?\s(?:--cpu|--always-cpu|--use-cpu all|--device[ =]cpu)(?=\s|$)/,
    produce: (_m, line) => [{ kind: 'forced-cpu', line }],
  },
  // sd.cpp: "--vae-on-cpu" / "--clip-on-cpu" on the command line (sd.cpp#291), "set clip_on_cpu to true" (sd.cpp#298).
  {
    id: 'module-on-cpu-flag',
    from: ['sd.cpp'],
    hint: ['-on-cpu', '_on_cpu'],
    re: /--(clip|vae)-on-cpu\b|set (clip|vae)_on_cpu to true/,
    produce: (m, line) => [
      {
        kind: 'partial',
        cause: 'flag',
        line,
        advice:
          `The ${(m[1] ?? m[2] ?? '').toUpperCase()} runs on the CPU (--${m[1] ?? m[2]}-on-cpu): ` + 'drop the flag when the GPU has room.',
      },
    ],
  },
  // GPU layers asked for: "-ngl 90" (llama.cpp#6787), "--n-gpu-layers 43" (ollama#5913), "--gpu-layers 999" (gpustack#1231),
  // koboldcpp "--gpulayers 33" (koboldcpp#610).
  {
    id: 'gpu-layers-flag',
    from: ['llama.cpp', 'ollama', 'gpustack', 'koboldcpp', 'llamafile'],
    hint: ['-ngl', 'gpu-layers', 'gpulayers'],
    re: /(?:\s-ngl|--n-gpu-layers|--gpu-layers|--gpulayers)[ =](\d+)/,
    produce: (m, line) => (Number(m[1]) > 0 ? [{ kind: 'gpu-wanted', line }] : []),
  },
  // Ollama: msg="user override" OLLAMA_LLM_LIBRARY=metal (ollama#1016).
  {
    id: 'ollama-library-override',
    from: ['ollama'],
    hint: 'user override',
    re: /user override.*OLLAMA_LLM_LIBRARY=(\w+)/,
    produce: (m, line) => {
      const b = backendOfLibrary(m[1] ?? '');
      return [b ? { kind: 'gpu-wanted', backend: b, line } : { kind: 'gpu-wanted', line }];
    },
  },
  // koboldcpp: "--usecublas" on its command line (koboldcpp#610).
  {
    id: 'koboldcpp-usecublas',
    from: ['koboldcpp'],
    hint: '--use',
    re: /\s--use(cublas|vulkan|hipblas)\b/,
    produce: (m, line) => {
      const b = backendOfLibrary(m[1] === 'cublas' ? 'cuda' : m[1] === 'hipblas' ? 'rocm' : 'vulkan');
      return [b ? { kind: 'gpu-wanted', backend: b, line } : { kind: 'gpu-wanted', line }];
    },
  },
  // PyTorch / MPS: "UserWarning: The operator 'aten::…' is not currently supported on the MPS backend and will fall
  // back to run on the CPU" (roboflow/rf-detr#29, InvokeAI#728).
  {
    id: 'mps-op-fallback',
    from: ['pytorch', 'invokeai'],
    hint: 'fall back to run on the cpu',
    re: /not currently supported on the MPS backend and will fall back to run on the CPU/,
    produce: (_m, line) => {
      const op = /operator '([^']+)'/.exec(line)?.[1];
      return [
        {
          kind: 'partial',
          backend: 'metal',
          line,
          advice:
            `PyTorch runs ${op ? `the operator ${op}` : 'an operator'} on the CPU because MPS lacks it: ` +
            'update torch (newer releases add MPS kernels) or use a model/setting that avoids the operator.',
        },
      ];
    },
  },
];
