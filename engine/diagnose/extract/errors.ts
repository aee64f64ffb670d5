import type { Cause, Fact, GpuBackend, Pattern } from '../facts.js';

/**
 * Device errors. An out-of-memory that names its device proves the device was in use; an error
 * that says a GPU cannot be used says why (driver, CPU-only wheel or build, unsupported GPU).
 */
const oom = (backend: GpuBackend, line: string): Fact => ({ kind: 'gpu-oom', backend, line });
const used = (backend: GpuBackend, line: string): Fact => ({ kind: 'gpu-used', backend, line });
const unusable = (cause: Cause, line: string, backend?: GpuBackend): Fact =>
  backend ? { kind: 'gpu-unusable', backend, cause, line } : { kind: 'gpu-unusable', cause, line };

export const errorPatterns: readonly Pattern[] = [
  // Any out-of-memory that names its device proves the device was in use (LABELS rule 5), whoever prints it:
  // PyTorch "torch.OutOfMemoryError: CUDA out of memory" (Wan2GP#671, A1111#3203, vllm#783), "CUDA error: out of memory"
  // (Wan2GP#1612), "HIP out of memory" (ROCm/TheRock#1054), "MPS backend out of memory" (pytorch#96814, ComfyUI#2489);
  // ggml "allocating 144817.04 MiB on device 0: cudaMalloc failed: out of memory" (llama.cpp#20431; a HIP build prints the
  // same words and then names ROCm0, llama.cpp#16725), "failed to allocate ROCm0 buffer", "unable to allocate CUDA0 buffer",
  // "ggml_vulkan: Device memory allocation of size 118497280 failed." / "vk::Device::allocateMemory: ErrorOutOfDeviceMemory"
  // (llama.cpp#15256), "ggml_backend_metal_buffer_type_alloc_buffer: error: failed to allocate buffer" (llama.cpp#9676);
  // Metal "[METAL] … Insufficient Memory (…kIOGPUCommandBufferCallbackErrorOutOfMemory)" (mflux#145, llama.cpp#7010);
  // MLX "[metal::malloc] Resource limit (499000) exceeded." (rapid-mlx#2836); cuBLAS "CUDA error: the resource allocation
  // failed" (koboldcpp#1780, on the second GPU during warm-up). Two parts: the words of a failed allocation,
  // and the device the line names (its last one: "cudaMalloc" in a HIP build is followed by "ROCm0" on the next line, and
  // the last out-of-memory decides). Host memory (CPU, CUDA_Host) is not a GPU out-of-memory.
  {
    id: 'device-out-of-memory',
    from: ['pytorch', 'a1111', 'wan2gp', 'vllm', 'invokeai', 'comfyui', 'llama.cpp', 'mlx'],
    hint: ['out of memory', 'outofmemory', 'outofdevicememory', 'insufficient memory', 'to allocate', 'allocation', 'resource limit'],
    re: new RegExp(
      [
        /out of memory|OutOfMemory|OutOfDeviceMemory|Insufficient Memory|(?:failed|unable) to allocate|allocation failed/.source,
        /allocation of size \d+ failed|Resource limit \(\d+\) exceeded/.source,
      ].join('|'),
      'i',
    ),
    produce: (_m, line) => {
      const backend = deviceNamed(line);
      return backend ? [oom(backend, line)] : [];
    },
  },
  // A GPU command buffer that failed, for any reason but memory (read by device-out-of-memory): the work was on that GPU.
  // llama.cpp "ggml_metal_graph_compute: command buffer 6 failed with status 5" (llama.cpp#7010), MLX "[METAL] Command buffer
  // execution failed: Caused GPU Timeout Error (…kIOGPUCommandBufferCallbackErrorTimeout)" (mflux#681).
  {
    id: 'gpu-command-buffer-failed',
    from: ['llama.cpp', 'mlx'],
    hint: 'command buffer',
    re: /command buffer(?: \d+)?(?: execution)? failed/i,
    produce: (_m, line) => {
      const backend = deviceNamed(line);
      return backend && !/Insufficient Memory|OutOfMemory/i.test(line) ? [used(backend, line)] : [];
    },
  },
  // MLX's own Metal errors: "[metal::Device] Unable to load kernel …" (mflux#37) is a Metal kernel missing during GPU work
  // ("[metal::malloc] Resource limit … exceeded" is memory: device-out-of-memory).
  {
    id: 'mlx-metal-runtime',
    from: ['mlx'],
    hint: ['[metal::'],
    re: /\[metal::(malloc|Device)\]/,
    produce: (m, line) => (m[1] === 'malloc' ? [] : [used('metal', line)]),
  },
  // PyTorch's MPS allocator: "RuntimeError: Invalid buffer size: 10973.48 GB" (diffusers#9972) — a buffer above the Metal limit.
  {
    id: 'mps-invalid-buffer-size',
    from: ['diffusers'],
    hint: 'invalid buffer size',
    re: /Invalid buffer size: [\d.]+ [KMGT]?B\b/,
    produce: (_m, line) => [oom('metal', line)],
  },
  // MLX: "Attempting to allocate N bytes which is greater than the maximum allowed buffer size" (mlx-llm#22).
  {
    id: 'mlx-buffer-limit',
    from: ['mlx'],
    hint: 'maximum allowed buffer size',
    re: /Attempting to allocate \d+ bytes which is greater than the maximum allowed buffer size/,
    produce: (_m, line) => [oom('metal', line)],
  },
  // vLLM: "ValueError: Free memory on device (3.22/4.0 GiB) on startup is less than desired GPU memory utilization" (vllm#25837).
  {
    id: 'vllm-free-memory',
    from: ['vllm'],
    hint: 'free memory on device',
    re: /Free memory on device \([\d.]+\/[\d.]+ GiB\) on startup is less than desired GPU memory utilization/,
    produce: (_m, line) => [oom('cuda', line)],
  },
  // llama.cpp Metal: "warning: current allocated size is greater than the recommended max working set size" (llama.cpp#5206, #3213).
  {
    id: 'metal-working-set',
    from: ['llama.cpp'],
    hint: 'recommended max working set size',
    re: /current allocated size is greater than the recommended max working set size/,
    produce: (_m, line) => [{ kind: 'memory-limit', backend: 'metal', line }],
  },

  // ---- a GPU that cannot be used, and why ----
  // No device: "ggml_cuda_init: failed to initialize CUDA: no CUDA-capable device is detected" (janhq/cortex.cpp#1470),
  // "CUDA error 100 …: no CUDA-capable device is detected" (llama-cpp-python#1030), "ggml_init_cublas: no CUDA devices found"
  // (llama.cpp#6184), "warning: no usable GPU found" (noonghunna/club-3090#186), "no GPUs were found; falling back to CPU"
  // (llamafile#263). The driver or toolkit does not show the GPU to the process.
  {
    id: 'no-device',
    from: ['llama.cpp', 'llama-cpp-python', 'llamafile'],
    hint: ['no ', 'failed to initialize'],
    re: new RegExp(
      [
        /\bno (?:usable )?(CUDA|ROCm|GPU)(?:-capable device|s? devices?|s?)\b[^\n]{0,20}?\b(?:is |were |was )?(?:detected|found)\b/.source,
        /failed to initialize (CUDA|ROCm)/.source,
      ].join('|'),
      'i',
    ),
    produce: (m, line) => {
      const what = (m[1] ?? m[2] ?? '').toUpperCase();
      return [unusable('driver', line, what === 'ROCM' ? 'rocm' : what === 'GPU' ? undefined : 'cuda')];
    },
  },
  // Not built for a GPU: "Torch not compiled with CUDA enabled" (detectron2#460, ComfyUI-to-Python#55) is a CPU-only wheel;
  // "not compiled with GPU offload support" (llama.cpp#9153) is a CPU-only build.
  {
    id: 'not-compiled',
    from: ['pytorch', 'comfyui', 'llama.cpp'],
    hint: 'not compiled with',
    re: /not compiled with (CUDA|GPU offload)/,
    produce: (m, line) => [m[1] === 'CUDA' ? unusable('cpu-wheel', line, 'cuda') : unusable('cpu-build', line)],
  },
  // Availability stated in a sentence, either way. Not available: "User provided device_type of 'cuda', but CUDA is not
  // available" (Anima-Standalone-Trainer#38), "RuntimeError: Torch is not able to use GPU" (A1111#16941, #3882), "fatal error:
  // support for --gpu nvidia was explicitly requested, but it wasn't available" (llamafile#487). Available: "GPU is available
  // in the environment" (transformers, in ComfyUI-Background-Replacement#8), "Confirmed CUDA platform is available" (vllm#16662),
  // "… since a GPU device is available" (llama.cpp). A question ("Checking if ROCm platform is available") says nothing, and
  // one platform of several found missing ("TPU platform is not available because …") is a probe, not a failure.
  {
    id: 'availability',
    from: ['pytorch', 'a1111', 'llamafile', 'comfyui', 'vllm', 'llama.cpp'],
    hint: ['available', 'not able to use'],
    re: new RegExp(
      [
        /(?<!\b(?:if|whether) (?:the )?)\b(CUDA|MPS|GPU|ROCm|HIP|Metal|Vulkan)\b/.source +
          /( (?:platform|device|backend))? is (not )?available\b/.source,
        /not able to use (GPU|CUDA)/.source,
        /--gpu (nvidia|amd|apple) was explicitly requested, but it wasn't available/.source,
      ].join('|'),
    ),
    produce: (m, line) => {
      const what = m[1] ?? m[4] ?? m[5] ?? '';
      const backend: GpuBackend | undefined =
        what === 'MPS' || what === 'Metal' || what === 'apple'
          ? 'metal'
          : what === 'amd' || what === 'ROCm' || what === 'HIP'
            ? 'rocm'
            : what === 'Vulkan'
              ? 'vulkan'
              : what === 'GPU'
                ? undefined
                : 'cuda';
      const positive = m[1] !== undefined && m[3] === undefined;
      if (positive) return [backend ? { kind: 'gpu-present', backend, line } : { kind: 'gpu-present', line }];
      if (m[1] !== undefined && m[2] === ' platform') return [];
      return [unusable('driver', line, backend)];
    },
  },
  // The driver: "The NVIDIA driver on your system is too old (found version 10010)" (yolov5#2389, FastFCN#37),
  // "Found no NVIDIA driver on your system" (av/harbor#173 for ComfyUI), "CUDA initialization: Unexpected error from
  // cudaGetDeviceCount() … Error 803: system has unsupported display driver / cuda driver combination" (InvokeAI#7011),
  // "HIP initialization: Unexpected error from hipGetDeviceCount() … hipErrorInvalidDevice" (A1111#1122).
  {
    id: 'driver',
    from: ['pytorch', 'comfyui', 'invokeai', 'a1111'],
    hint: ['driver', 'getdevicecount'],
    re: new RegExp(
      [
        /NVIDIA driver on your system is too old/.source,
        /Found no NVIDIA driver on your system/.source,
        /CUDA driver version is insufficient/.source,
        /unsupported display driver \/ cuda driver combination/.source,
        /Unexpected error from (cuda|hip)GetDeviceCount/.source,
      ].join('|'),
    ),
    produce: (m, line) => [unusable('driver', line, m[1] === 'hip' ? 'rocm' : 'cuda')],
  },
  // llamafile: "link_cuda_dso: GPU support not possible" (llamafile#263).
  {
    id: 'llamafile-gpu-not-possible',
    from: ['llamafile'],
    hint: 'gpu support not possible',
    re: /GPU support not possible/,
    produce: (_m, line) => [unusable('driver', line)],
  },
  // "RuntimeError: The MPS backend is supported on MacOS 13.0+." (pytorch#164943).
  {
    id: 'torch-mps-macos',
    from: ['pytorch'],
    hint: 'mps backend is supported on macos',
    re: /The MPS backend is supported on MacOS/i,
    produce: (_m, line) => [unusable('unsupported', line, 'metal')],
  },
  // ROCm without a kernel for this GPU: "hipErrorNoBinaryForGpu: Unable to find code object for all current devices!"
  // (A1111#5067, InvokeAI via gbtb/nix-stable-diffusion#7) — the gfx target is not in the build (HSA_OVERRIDE_GFX_VERSION).
  {
    id: 'hip-no-binary',
    from: ['a1111', 'invokeai'],
    hint: 'hiperrornobinaryforgpu',
    re: /hipErrorNoBinaryForGpu/,
    produce: (_m, line) => [{ kind: 'gpu-present', backend: 'rocm', line }, unusable('unsupported', line, 'rocm')],
  },
  // CUDA without a kernel for this GPU generation: "CUDA error: no kernel image is available for execution on the device"
  // (gpustack#1382: an RTX 5090D, compute capability 10.0, under a llama-box build without it); ggml's "CUDA kernel … has no
  // device code compatible with CUDA arch 520". The GPU is there; the build (or torch wheel) was not compiled for it.
  {
    id: 'cuda-no-kernel-image',
    from: ['gpustack'],
    hint: ['no kernel image', 'no device code compatible'],
    re: /no kernel image is available for execution on the device|has no device code compatible with CUDA arch/,
    produce: (_m, line) => [{ kind: 'gpu-present', backend: 'cuda', line }, unusable('unsupported', line, 'cuda')],
  },
  // PyTorch wheel without kernels for this GPU: "NVIDIA GeForce RTX 5090 with CUDA capability sm_120 is not compatible with the
  // current PyTorch installation." (Hellod035/LeggedLab#26, fixed by the cu128 wheel).
  {
    id: 'torch-cuda-capability-unsupported',
    from: ['pytorch'],
    hint: 'is not compatible with the current pytorch installation',
    re: /with CUDA capability sm_\d+ is not compatible with the current PyTorch installation/,
    produce: (_m, line) => [{ kind: 'gpu-present', backend: 'cuda', line }, unusable('unsupported', line, 'cuda')],
  },
  // ROCm's BLAS without kernels for this GPU (or unreadable): "rocBLAS error: Cannot read /opt/rocm/lib/rocblas/library/
  // TensileLibrary.dat: Illegal seek" (ollama#814: the ROCm runner dies and Ollama falls back to the CPU).
  {
    id: 'rocblas-tensile',
    from: ['ollama'],
    hint: 'tensilelibrary',
    re: /rocBLAS error: Cannot read \S*TensileLibrary/,
    produce: (_m, line) => [{ kind: 'gpu-present', backend: 'rocm', line }, unusable('unsupported', line, 'rocm')],
  },
  // "llama_cpp_python is built without hardware acceleration." (instructlab#1204): a CPU-only wheel of llama-cpp-python.
  {
    id: 'built-without-acceleration',
    from: ['llama-cpp-python'],
    hint: 'built without hardware acceleration',
    re: /built without hardware acceleration/,
    produce: (_m, line) => [unusable('cpu-build', line)],
  },
  // A runner saying it leaves the GPU: Ollama msg="not enough vram available, falling back to CPU only" (ollama#2566).
  // ("… will fall back to run on the CPU" is PyTorch's per-operator MPS fallback, a partial one: not matched here.)
  {
    id: 'falling-back-to-cpu',
    from: ['ollama'],
    hint: 'falling back to cpu',
    re: /falling back to (?:the )?CPU\b/i,
    produce: (_m, line) => [{ kind: 'cpu-used', ...(/vram|memory/i.test(line) ? { cause: 'memory' as const } : {}), line }],
  },
  // Ollama: msg="compatible gpu libraries" compatible=[] (ollama#11723): the runner has no GPU library.
  {
    id: 'ollama-no-gpu-libraries',
    from: ['ollama'],
    hint: 'compatible gpu libraries',
    re: /"compatible gpu libraries" compatible=\[\]/,
    produce: (_m, line) => [unusable('cpu-build', line)],
  },
  // Ollama: msg="Dynamic LLM libraries" runners=[cpu] (ollama#8532): a build with no GPU runner.
  {
    id: 'ollama-cpu-runners-only',
    from: ['ollama'],
    hint: 'dynamic llm libraries',
    re: /"Dynamic LLM libraries" runners=\[?"?\[?((?:cpu\w*[ ,]*)+)\]?"?\s*$/,
    produce: (_m, line) => [unusable('cpu-build', line)],
  },
  // Ollama on AMD: msg="amdgpu is not supported (supported types:[gfx1103])" gpu_type=gfx1150 (ollama-for-amd#40).
  {
    id: 'ollama-amdgpu-unsupported',
    from: ['ollama'],
    hint: 'amdgpu is not supported',
    re: /amdgpu is not supported/,
    produce: (_m, line) => [{ kind: 'gpu-present', backend: 'rocm', line }, unusable('unsupported', line, 'rocm')],
  },
  // Ollama on a CPU without AVX (often a VM without CPU passthrough): msg="CPU does not have minimum vector extensions, GPU
  // inference disabled" (ollama#7585, #6827); older builds: "CPU does not have AVX or AVX2, disabling GPU support".
  {
    id: 'ollama-no-avx-gpu-disabled',
    from: ['ollama'],
    hint: 'cpu does not have',
    re: /CPU does not have (?:minimum vector extensions, GPU inference disabled|AVX or AVX2, disabling GPU support)/,
    produce: (_m, line) => [unusable('cpu-features', line)],
  },
  // Ollama: msg="no compatible GPUs were discovered" (zhaohb/ollama_ov#6).
  {
    id: 'ollama-no-compatible-gpus',
    from: ['ollama'],
    hint: 'no compatible gpus',
    re: /no compatible GPUs were discovered/,
    produce: (_m, line) => [{ kind: 'cpu-used', declared: true, cause: 'none-found', line }],
  },
  // Ollama: msg="entering low vram mode" "total vram"="0 B" (ollama#12903).
  {
    id: 'ollama-zero-vram',
    from: ['ollama'],
    hint: 'total vram',
    re: /"total vram"="0 B"/,
    produce: (_m, line) => [{ kind: 'cpu-used', declared: true, cause: 'none-found', line }],
  },
];

/**
 * The GPU backend a memory-error line names (its first device word: "HIP out of memory …", "cudaMalloc failed",
 * "failed to allocate ROCm0 buffer"), or undefined when it names host memory (CPU, CUDA_Host) or no device. URLs are
 * skipped ("…/notes/cuda.html" in a HIP error's help text).
 */
function deviceNamed(line: string): GpuBackend | undefined {
  for (const token of line.replace(/https?:\/\/\S+/g, ' ').split(/[^A-Za-z0-9_:]+/)) {
    const t = token.toLowerCase();
    if (t === 'cpu' || t.startsWith('cpu_') || t.endsWith('_host')) return undefined;
    if (t.includes('cuda')) return 'cuda';
    if (/(?:^|_)(?:hip|rocm)/.test(t)) return 'rocm';
    if (/(?:^|_)(?:mps|metal|mtl)(?:\d|_|:|$)/.test(t) || t.includes('kiogpu')) return 'metal';
    if (/(?:^|_)vulkan|^vk::/.test(t)) return 'vulkan';
  }
  return undefined;
}
