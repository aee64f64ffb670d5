import type { Fact, GpuBackend, Pattern } from '../facts.js';
import { backendOfGpuName, backendOfLibrary, whereOfDevice } from './names.js';

/**
 * Device announced / device initialised. A GPU that is only *found* ("found 1 CUDA devices") is
 * `gpu-present`: llama.cpp prints it and then may still put 0 layers on it. A device a runner
 * *opens for the work* ("using device Vulkan0", ComfyUI "Device: cuda:0", Ollama "inference
 * compute library=cuda") is `gpu-used`.
 *
 * `from` lists the families whose real lines (test/fixtures/logs/corpus.json) taught each pattern.
 */
const used = (backend: GpuBackend | undefined, line: string): Fact =>
  backend ? { kind: 'gpu-used', backend, line } : { kind: 'gpu-used', line };
const present = (backend: GpuBackend | undefined, line: string): Fact =>
  backend ? { kind: 'gpu-present', backend, line } : { kind: 'gpu-present', line };

/** A device word (cuda:0, mps, cpu, xpu, an NVIDIA name) as printed by a PyTorch app. */
function torchDevice(word: string, rest: string, line: string): Fact[] {
  const w = word.toLowerCase();
  if (w === 'cpu') return [{ kind: 'cpu-used', declared: true, line }];
  if (w === 'mps') return [used('metal', line)];
  if (w.startsWith('cuda')) return [used(/AMD|Radeon/i.test(rest) ? 'rocm' : 'cuda', line)];
  if (w === 'rocm' || w === 'hip') return [used('rocm', line)];
  if (w === 'metal') return [used('metal', line)];
  if (w === 'vulkan') return [used('vulkan', line)];
  if (w === 'xpu' || w === 'privateuseone') return [used(undefined, line)];
  return [];
}

export const devicePatterns: readonly Pattern[] = [
  // Devices found (announced, not yet proof of use): "ggml_cuda_init: found 1 CUDA devices:" (llama.cpp#6787),
  // "ggml_init_cublas: found 1 ROCm devices:" (ollama via llama.cpp#5280, sd.cpp#75), "ggml_sycl_init: found 1 SYCL devices:"
  // (intel/ipex-llm#13018), "ggml_vulkan: Found 1 Vulkan devices:" (llama.cpp#11367, sd.cpp#1340).
  {
    id: 'devices-found',
    from: ['llama.cpp', 'ollama', 'sd.cpp'],
    hint: 'found',
    re: /\b[Ff]ound (\d+) (CUDA|ROCm|Vulkan|SYCL) devices\b/,
    produce: (m, line) => {
      if (Number(m[1]) === 0) return [];
      const kind = m[2] ?? '';
      return [present(kind === 'SYCL' ? undefined : kind === 'ROCm' ? 'rocm' : kind === 'Vulkan' ? 'vulkan' : 'cuda', line)];
    },
  },
  // A Vulkan device row: "ggml_vulkan: 0 = Intel(R) Arc(TM) 130V GPU" (ollama#13153, ik_llama.cpp#1289, llama.cpp#20142).
  {
    id: 'ggml-vulkan-device-row',
    from: ['ollama', 'llama.cpp'],
    hint: 'ggml_vulkan',
    re: /ggml_vulkan: \d+ = \S/,
    produce: (_m, line) => [present('vulkan', line)],
  },
  // "llama_model_load_from_file_impl: using device Vulkan0 (AMD Radeon RX 7700 XT …)" (koboldcpp#2190),
  // "using device ROCm0" (ROCm/legacy-rocm-build#5104), "Vulkan0: using device Vulkan0" (ik_llama.cpp#1289).
  {
    id: 'ggml-using-device',
    from: ['koboldcpp', 'llama.cpp', 'ollama'],
    hint: 'using device',
    re: /using device ((?:CUDA|ROCm|Vulkan|MTL|Metal|SYCL)\d*)\b/,
    produce: (m, line) => {
      const w = whereOfDevice(m[1] ?? '');
      return w && w !== 'cpu' ? [used(w === 'gpu' ? undefined : w, line)] : [];
    },
  },
  // A backend announced with a verb — "Using CUDA backend" / "- CLIP: Using CPU backend" (sd.cpp#298), "[DEBUG] Using Vulkan
  // backend" (sd.cpp#1340), "Initializing backend: CUDA0" (sd.cpp#1603), "load_backend: loaded Vulkan backend from …" (ollama#13153,
  // llama.cpp#20142), "loaded CUDA backend from" (llama.cpp), "Cannot get device info without metal backend" (mlx-examples#1306).
  // Using / initializing → the work goes there; loaded → the backend is there; without → it is not.
  {
    id: 'backend-verb',
    from: ['sd.cpp', 'ollama', 'mlx'],
    hint: 'backend',
    re: new RegExp(
      [
        /(?:(\w+): )?\b(Using|Initializing|initializing|loaded|without)\b[ :]*(?:backend:? )?/.source,
        /(CUDA|ROCm|HIP|HIPBLAS|Vulkan|Metal|metal|MTL|CPU)\d*\b(?: backend\b)?/.source,
      ].join(''),
    ),
    produce: (m, line) => {
      // "load_backend: loaded Vulkan backend from …" names ggml's loader, not a model module.
      const module = m[1] === 'load_backend' ? undefined : m[1];
      const verb = (m[2] ?? '').toLowerCase();
      const name = m[3] ?? '';
      if (!/backend/i.test(m[0])) return [];
      if (verb === 'without') return [{ kind: 'cpu-used', declared: true, cause: 'none-found', line }];
      if (name.toUpperCase() === 'CPU') {
        if (verb === 'loaded' || verb === 'initializing') return [];
        if (module) {
          const advice =
            `The ${module} runs on the CPU backend while the rest uses the GPU: ` +
            'drop --clip-on-cpu/--vae-on-cpu (or its backend override) when the GPU has room.';
          return [{ kind: 'partial', cause: 'flag', line, advice }];
        }
        return [{ kind: 'cpu-used', declared: true, cause: 'cpu-build', line }];
      }
      const b = backendOfLibrary(name === 'HIPBLAS' ? 'rocm' : name);
      if (!b || module) return [];
      return verb === 'loaded' ? [present(b, line)] : [used(b, line)];
    },
  },
  // "ggml_metal_init: found device: Apple M3 Max" (LLamaSharp#835), "ggml_metal_init: using MPS" (llama-cpp-python#504),
  // "ggml_metal_init: recommendedMaxWorkingSetSize" (llama.cpp#3213), "ggml_metal_add_buffer: allocated" (same).
  {
    id: 'ggml-metal-init',
    from: ['llama.cpp', 'llama-cpp-python'],
    hint: 'metal',
    re: /ggml_metal_(?:device_)?init: \S|ggml_metal_add_buffer: allocated|ggml_backend_metal_buffer_type_alloc_buffer: allocated/,
    produce: (_m, line) => [used('metal', line)],
  },
  // "llm_load_tensors: using CUDA for GPU acceleration" (simonw/llm-llama-cpp#19, llama.cpp#3616).
  {
    id: 'llama-using-cuda',
    from: ['llama-cpp-python', 'llama.cpp'],
    hint: 'using cuda',
    re: /using CUDA for GPU acceleration/,
    produce: (_m, line) => [used('cuda', line)],
  },
  // A runtime library named for its backend, being loaded: koboldcpp "Initializing dynamic library: koboldcpp_cublas.dll"
  // (koboldcpp#610), Ollama "Loading Dynamic llm server: /tmp/ollama…/rocm_v6/libext_server.so" (ollama via llama.cpp#5280),
  // llamafile "dynamically linking …/.llamafile/ggml-cuda.dll" (llamafile#200). Loaded is not used: a GPU build is there.
  {
    id: 'backend-library',
    from: ['koboldcpp', 'ollama', 'llamafile'],
    hint: ['dynamic', 'linking'],
    re: new RegExp(
      [
        /(?:Initializing dynamic library|Loading Dynamic llm server|dynamically linking)\b/.source,
        /[^\n]*?(cublas|cuda|hipblas|rocm|vulkan|clblast|metal)/.source,
      ].join(''),
      'i',
    ),
    produce: (m, line) => {
      const lib = (m[1] ?? '').toLowerCase();
      const name = lib === 'cublas' ? 'cuda' : lib === 'hipblas' ? 'rocm' : lib;
      return [present(lib === 'clblast' ? undefined : backendOfLibrary(name), line)];
    },
  },
  // koboldcpp's CPU libraries: "Initializing dynamic library: koboldcpp_openblas_noavx2.dll" (koboldcpp#317: with --noavx2 it
  // loaded OpenBLAS and ignored --usecublas); also koboldcpp_default / _failsafe / _openblas. A GPU asked for makes it a fallback.
  {
    id: 'koboldcpp-cpu-library',
    from: ['koboldcpp'],
    hint: 'initializing dynamic library',
    re: /Initializing dynamic library: koboldcpp_(?:openblas|default|failsafe|noavx2)\w*\.(?:dll|so|dylib)/,
    produce: (_m, line) => [{ kind: 'cpu-used', declared: true, cause: 'cpu-build', line }],
  },
  // "Set vram state to: DISABLED" = ComfyUI's CPU mode (numz/ComfyUI-SeedVR2_VideoUpscaler#565, ComfyUI#5085).
  {
    id: 'comfy-vram-disabled',
    from: ['comfyui'],
    hint: 'vram state',
    re: /Set vram state to: DISABLED/,
    produce: (_m, line) => [{ kind: 'cpu-used', line }],
  },
  // A device / library / platform key followed by a backend word — the way most tools announce where work goes:
  // ComfyUI/Forge "Device: cuda:0 NVIDIA GeForce RTX 4090" (ComfyUI#8010, Forge#800), "Device: mps", "Device: cpu" (ComfyUI#5085);
  // InvokeAI ">> Using device_type cpu" (InvokeAI#1322); PyTorch apps "using device = cpu" (MCG-NKU/AMT#16);
  // Ollama msg="inference compute" … library=cuda (ollama#8972) / library=cpu (ollama#1016); vLLM "detected platform cuda"
  // (ovg-project/kvcached#29); the same key in transformers' words, "Device set to use cuda:0".
  // A CPU here is the tool's own choice (`declared`): a fallback only if a GPU was there or expected.
  {
    id: 'device-key',
    from: ['comfyui', 'a1111', 'invokeai', 'ollama', 'vllm'],
    hint: ['device', 'library', 'platform'],
    re: new RegExp(
      [
        /\b(?:[Dd]evice(?:_type|_config)?(?: set to use)?|library|platform)\b\s*[:=]?\s*['"]?/.source,
        /(cuda(?::\d+)?|rocm|hip|mps|metal|vulkan|xpu|privateuseone|cpu)\b(.*)$/.source,
      ].join(''),
      'i',
    ),
    // A quoted keyword argument (`device_type="cuda"`) is source code echoed by a Python warning, not a statement.
    produce: (m, line) => {
      const head = m[0].slice(0, m[0].length - (m[2] ?? '').length);
      return /=\s*['"]/.test(head) ? [] : torchDevice(m[1] ?? '', m[2] ?? '', line);
    },
  },
  // SD.Next: "Torch backend: AMD ROCm HIP 5.4.22803-474e8620" (vladmandic/sdnext#922), "Torch backend: nVidia CUDA …".
  {
    id: 'sdnext-torch-backend',
    from: ['a1111'],
    hint: 'torch backend:',
    re: /Torch backend: (?:nVidia (CUDA)|AMD (ROCm)|Apple (MPS)|(CPU))\b/i,
    produce: (m, line) => {
      if (m[4]) return [{ kind: 'cpu-used', declared: true, line }];
      return [used(m[1] ? 'cuda' : m[2] ? 'rocm' : 'metal', line)];
    },
  },
  // A device printed by its GPU name: "Using torch device: NVIDIA GeForce RTX 4090" (InvokeAI#6062),
  // "Device: cuda:0 NVIDIA GeForce RTX 3090" (Forge#800, ComfyUI#8010).
  {
    id: 'device-gpu-name',
    from: ['invokeai', 'comfyui', 'a1111'],
    hint: 'device',
    re: /\bdevice\w*:?\s+(?:cuda:\d+\s+)?((?:NVIDIA|GeForce|Tesla|Quadro|Apple|AMD Radeon|Radeon)\b.*)$/i,
    produce: (m, line) => {
      const b = backendOfGpuName(m[1] ?? '');
      return b ? [used(b, line)] : [];
    },
  },
  // Torch builds: "pytorch version: 2.4.1+cu124" (ComfyUI#5085), "Torch Version: 2.8.0+cu128 (CUDA: Yes" (Wan2GP#1083),
  // "PyTorch 2.0.1+cu118 with CUDA 1108 (you have 2.0.1+cpu)" (InvokeAI#4788).
  {
    id: 'torch-wheel',
    from: ['comfyui', 'wan2gp', 'invokeai'],
    hint: 'torch',
    re: /torch[^\n]{0,30}?\b\d+\.\d+(?:\.\d+)?(?:[a-z.]*\d*)?\+(cu\d+|rocm[\d.]+|cpu)\b/i,
    produce: (m, line) => {
      // "xFormers was built for: PyTorch 2.0.1+cu118 … (you have 2.0.1+cpu)" (InvokeAI#4788): the installed one is last.
      const tags = [...line.matchAll(/\+(cu\d+|rocm[\d.]+|cpu)\b/gi)].map((t) => (t[1] ?? '').toLowerCase());
      const tag = tags[tags.length - 1] ?? (m[1] ?? '').toLowerCase();
      if (tag === 'cpu') return [{ kind: 'gpu-unusable', cause: 'cpu-wheel', line }];
      return [present(tag.startsWith('cu') ? 'cuda' : 'rocm', line)];
    },
  },
  // A backend with a yes/no: "Is MPS available? False" (pytorch#78343), "MPS available?: False" (pytorch#167679),
  // "GPU available: False, used: False" (Lightning, pytorch-tabular#3), "Torch Version: 2.8.0+cu128 (CUDA: Yes" (Wan2GP#1083).
  {
    id: 'backend-boolean',
    from: ['pytorch', 'wan2gp'],
    hint: ['available', 'cuda:', 'built'],
    re: /\b(CUDA|MPS|GPU|ROCm)\b(?:[^\n]{0,30}?\b(available|built))?[?:)\s]{1,4}(True|False|Yes|No)\b/,
    produce: (m, line) => {
      const what = m[1] ?? '';
      const yes = m[3] === 'True' || m[3] === 'Yes';
      const backend: GpuBackend | undefined = what === 'MPS' ? 'metal' : what === 'CUDA' ? 'cuda' : what === 'ROCm' ? 'rocm' : undefined;
      if (yes) return [present(backend, line)];
      if (m[2] === 'built') return [];
      return [{ kind: 'gpu-unusable', cause: what === 'MPS' ? 'unsupported' : 'driver', ...(backend ? { backend } : {}), line }];
    },
  },
  // Ollama runner paths: cmd="/tmp/ollama…/runners/cuda_v11/ollama_llama_server …" (ollama#6160, #5913, #8098).
  {
    id: 'ollama-runner-path',
    from: ['ollama'],
    hint: 'runners/',
    re: /runners\/(cuda\w*|rocm\w*|metal|vulkan\w*)\//,
    produce: (m, line) => [present(backendOfLibrary(m[1] ?? ''), line)],
  },
  // vLLM's CUDA attention kernels: "Using FLASH_ATTN attention backend" (vllm#45288), "Using Flashinfer backend." (vllm#8189),
  // "Using Triton MLA backend on V1 engine." (vllm#15182).
  {
    id: 'vllm-attention-backend',
    from: ['vllm'],
    hint: 'backend',
    re: /Using (?:FLASH_ATTN|Flashinfer|FLASHINFER|XFORMERS|XFormers|Triton MLA|TRITON_ATTN)(?: attention)? backend/,
    produce: (_m, line) => [used('cuda', line)],
  },
  // vLLM platform probe: "Confirmed CUDA platform is available." (vllm#16662, #12529).
  {
    id: 'vllm-platform-confirmed',
    from: ['vllm'],
    hint: 'confirmed',
    re: /Confirmed (CUDA|ROCm|XPU) platform is available/,
    produce: (m, line) => [used(m[1] === 'ROCm' ? 'rocm' : m[1] === 'CUDA' ? 'cuda' : undefined, line)],
  },
  // vLLM's CPU backend: "Cannot use _Backend.FLASH_ATTN backend on CPU." and its CPU attention, "Using Torch SDPA backend."
  // (vllm#8660, #10556): the CPU build chosen on purpose.
  {
    id: 'vllm-cpu-backend',
    from: ['vllm'],
    hint: ['backend on cpu', 'torch sdpa backend'],
    re: /Cannot use _Backend\.\w+ backend on CPU|Using Torch SDPA backend/,
    produce: (_m, line) => [{ kind: 'cpu-used', declared: true, cause: 'cpu-build', line }],
  },
  // llama.cpp's system_info lists the compiled-in backends that report features: "system_info: … | Metal : EMBED_LIBRARY = 1 |
  // … | CPU : NEON = 1 …" (gpustack#1057), "CUDA : ARCHS = 600,610,…" (gpustack/llama-box#44). A GPU group there is a GPU build;
  // a list with only "CPU :" is a CPU build (gpustack#1231: "it's running the llama-box built for AVX, not CUDA") as far as
  // this line goes — Vulkan and SYCL builds report no group, so it is only `declared`, and their device lines outrank it.
  {
    id: 'ggml-system-info',
    from: ['gpustack'],
    hint: 'system_info',
    re: /system_info: .*?\| ((?:CUDA|ROCm|Metal|Vulkan|CPU) : .*)$/,
    produce: (m, line) => {
      const groups = [...(m[1] ?? '').matchAll(/(?:^|\| )(\w+) : /g)].map((g) => g[1] ?? '');
      const gpu = groups.map((g) => backendOfLibrary(g)).find((b) => b !== undefined);
      if (gpu) return [present(gpu, line)];
      return groups.includes('CPU') ? [{ kind: 'cpu-used', declared: true, cause: 'cpu-build', line }] : [];
    },
  },
  // Older llama.cpp printed "AVX = 1 | … | BLAS = 0 | …": no cuBLAS, CLBlast, Vulkan or SYCL compiled in, a CPU build
  // ("BLAS = 1" is also Apple's CPU Accelerate, so it says nothing).
  {
    id: 'ggml-blas-off',
    from: [],
    untaught:
      "llama.cpp's old system_info flags (ggml_cpu_has_blas() is 1 for cuBLAS/CLBlast/Vulkan/SYCL builds); " +
      'the one excerpt seen came from a thread with no conclusion',
    hint: 'blas = 0',
    re: /\| BLAS = 0 \|/,
    produce: (_m, line) => [{ kind: 'cpu-used', declared: true, cause: 'cpu-build', line }],
  },
  // MLX runs on the Apple GPU unless told otherwise, so its own output proves Metal:
  // "Prompt: 32159 tokens, 261.786 tokens-per-sec" (ml-explore/mlx-examples#1029), "prompt_tps=…" (mlx-lm#396).
  {
    id: 'mlx-throughput',
    from: ['mlx'],
    hint: ['tokens-per-sec', 'generation_tps'],
    re: /^\s*(?:Prompt|Generation): \d+ tokens, [\d.]+ tokens-per-sec|prompt_tps=[\d.]+, generation_tps=[\d.]+/,
    produce: (_m, line) => [used('metal', line)],
  },
  // MLX LoRA training: "Iter 1290: Train loss 0.225, Learning Rate 1.000e-06, It/sec 0.369, Tokens/sec 137.591, Trained Tokens
  // 704122, Peak mem 105.648 GB" (ml-explore/mlx-examples#724).
  {
    id: 'mlx-lora-iteration',
    from: ['mlx'],
    hint: 'peak mem',
    re: /^Iter \d+: Train loss [\d.]+,.*Peak mem [\d.]+ GB/,
    produce: (_m, line) => [used('metal', line)],
  },
  {
    id: 'mlx-device',
    from: [],
    untaught: "MLX's printed device, Device(gpu, 0) / Device(cpu, 0), as mx.default_device() shows it; no excerpt prints it yet",
    hint: 'device(',
    re: /Device\((gpu|cpu), \d+\)/,
    produce: (m, line) => (m[1] === 'gpu' ? [used('metal', line)] : [{ kind: 'cpu-used', line }]),
  },
  // Lightning: "GPU available: False, used: False" (pytorch-tabular#3).
  {
    id: 'lightning-gpu-available',
    from: ['pytorch'],
    hint: 'gpu available',
    re: /GPU available: (True|False)(?: \(\w+\))?, used: (True|False)/,
    produce: (m, line) => {
      if (m[2] === 'True') return [used(undefined, line)];
      if (m[1] === 'True') return [present(undefined, line), { kind: 'cpu-used', line }];
      return [{ kind: 'gpu-unusable', cause: 'none-found', line }];
    },
  },
  // transformers: "Hardware accelerator e.g. GPU is available in the environment, but no `device` argument is passed to the
  // `Pipeline` object. Model will be on CPU." (meap158/ComfyUI-Background-Replacement#8).
  {
    id: 'transformers-pipeline-on-cpu',
    from: ['comfyui'],
    hint: 'model will be on cpu',
    re: /GPU is available in the environment, but no `device` argument is passed to the `Pipeline` object\. Model will be on CPU/,
    produce: (_m, line) => [present(undefined, line), { kind: 'cpu-used', line }],
  },
  // diffusers: "Pipelines loaded with `dtype=torch.float16` cannot run with `cpu` device" (Vchitect/Latte#23).
  {
    id: 'diffusers-fp16-cpu',
    from: ['diffusers'],
    hint: 'cannot run with `cpu` device',
    re: /Pipelines loaded with `(?:torch_)?dtype=torch\.float16` cannot run with `cpu` device/,
    produce: (_m, line) => [{ kind: 'cpu-used', line }],
  },
];
