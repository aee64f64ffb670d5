import type { Fact, GpuBackend, Rule } from '../facts.js';

/**
 * llama.cpp and everything built on it (llama-server, llama-cpp-python, LM Studio, LLamaSharp,
 * koboldcpp, node-llama-cpp). Lines that taught these patterns (real logs, test/fixtures/logs):
 *   "ggml_metal_init: found device: Apple M3 Max"                    (SciSharp/LLamaSharp#835)
 *   "ggml_metal_init: using MPS"                                      (abetlen/llama-cpp-python#504)
 *   "ggml_cuda_init: found 1 CUDA devices:"                           (ggml-org/llama.cpp#6787)
 *   "ggml_init_cublas: found 2 CUDA devices:"                         (ggml-org/llama.cpp#3616)
 *   "llm_load_tensors: using CUDA for GPU acceleration"               (simonw/llm-llama-cpp#19)
 *   "ggml_vulkan: Found 1 Vulkan devices:"                            (ggml-org/llama.cpp#11367)
 *   "load_tensors: offloaded 0/29 layers to GPU"                      (ggml-org/llama.cpp#12614)
 *   "llm_load_tensors: offloaded 33/81 layers to GPU"                 (ggml-org/llama.cpp#10003)
 *   "load_tensors:        CUDA0 model buffer size = 24277.75 MiB"     (ollama/ollama#11986)
 *   "print_backend_buffers_info:      Vulkan0 model buffer size = …"  (tetherto/qvac-fabric-llm.cpp#21)
 *   "llama_kv_cache_init:        CPU KV buffer size =   384.00 MiB" next to
 *   "llama_kv_cache_init:      Metal KV buffer size =   640.00 MiB"   (KV split = partial offload)
 *   "warning: not compiled with GPU offload support, --gpu-layers option will be ignored" (#9153)
 *   "warning: no usable GPU found, --gpu-layers option will be ignored" (noonghunna/club-3090#186)
 * The "offloaded N/M" line is printed only by builds that can offload, so 0/M means a GPU build
 * ran everything on the CPU.
 */
const OFFLOADED = /offloaded (\d+)\/(\d+) layers to GPU/;
const BUFFER = /\b(MTL\d*|Metal|CUDA\d+|CUDA_Host|Vulkan\d+|ROCm\d+|CPU)(?:_Mapped)?\s+(model |KV |compute |output |input )?buffer size/;
const KV_BUFFER = /\b(CPU|MTL\d*|Metal|CUDA\d+|Vulkan\d+|ROCm\d+)\s+KV buffer size/;

export function llamaCppRule(): Rule {
  let cpuKv: string | undefined;
  let gpuKv: string | undefined;
  let splitReported = false;
  return {
    family: 'llama.cpp',
    scan(line) {
      const facts: Fact[] = [];
      const off = OFFLOADED.exec(line);
      if (off) facts.push({ kind: 'offload', layers: Number(off[1]), total: Number(off[2]), line });

      if (/ggml_metal_(?:device_)?init: (?:found device|GPU name|using MPS|picking default device)/.test(line)) {
        facts.push({ kind: 'gpu', backend: 'metal', line });
      }
      const cuda = /(?:ggml_cuda_init|ggml_init_cublas): found (\d+) (CUDA|ROCm) devices/.exec(line);
      if (cuda && Number(cuda[1]) > 0) facts.push({ kind: 'gpu', backend: cuda[2] === 'ROCm' ? 'rocm' : 'cuda', line });
      if (/using CUDA for GPU acceleration|loaded CUDA backend from/.test(line)) facts.push({ kind: 'gpu', backend: 'cuda', line });
      const vk = /ggml_vulkan: Found (\d+) Vulkan devices/.exec(line);
      if (vk && Number(vk[1]) > 0) facts.push({ kind: 'gpu', backend: 'vulkan', line });

      const kv = KV_BUFFER.exec(line);
      if (kv) {
        if (kv[1] === 'CPU') cpuKv = line;
        else gpuKv = line;
        if (cpuKv && gpuKv && !splitReported) {
          splitReported = true;
          facts.push({ kind: 'partial', line: cpuKv, advice: 'The KV cache is split between CPU and GPU: not every layer is offloaded. Offload all layers (-ngl 999 / gpuLayers "max") or use a smaller model or context.' });
        }
      }
      const buf = BUFFER.exec(line);
      if (buf) {
        const backend = bufferBackend(buf[1] ?? '');
        if (backend) facts.push({ kind: 'gpu', backend, line });
        else if (buf[1]?.startsWith('CUDA_Host')) facts.push({ kind: 'gpu-present', backend: 'cuda', line });
      }

      if (/not compiled with GPU offload support|no usable GPU found/.test(line)) {
        facts.push({
          kind: 'cpu',
          wanted: true,
          line,
          advice: 'This llama.cpp build has no usable GPU backend: install a Metal (macOS) or CUDA/Vulkan (Linux) build of llama.cpp and check the GPU driver.',
        });
      }
      return facts;
    },
  };
}

function bufferBackend(name: string): GpuBackend | undefined {
  if (name === 'Metal' || name.startsWith('MTL')) return 'metal';
  if (/^CUDA\d+$/.test(name)) return 'cuda';
  if (name.startsWith('Vulkan')) return 'vulkan';
  if (name.startsWith('ROCm')) return 'rocm';
  return undefined;
}
