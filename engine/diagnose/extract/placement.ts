import type { Fact, Pattern, StatefulExtractor, Where } from '../facts.js';
import { backendOfLibrary, whereOfDevice } from './names.js';

/**
 * Buffers and layers placed. The loader's "offloaded N/M layers" is the strongest fact there is;
 * buffer lines say where weights, KV cache and compute went ("CUDA0 model buffer", "CPU KV buffer").
 */
type What = Extract<Fact, { kind: 'placement' }>['what'];

const WHAT: Record<string, What> = { model: 'weights', kv: 'kv', compute: 'compute', output: 'output', input: 'output' };

const placed = (where: Where, what: What, line: string): Fact => ({ kind: 'placement', where, what, line });

export const placementPatterns: readonly Pattern[] = [
  // "load_tensors: offloaded 0/29 layers to GPU" (llama.cpp#12614), Ollama's msg="offloaded 0/25 layers to GPU"
  // (ollama#12147), llamafile#273, GPUStack llama-box (gpustack#2040), LocalAI, koboldcpp.
  {
    id: 'offloaded-layers',
    from: ['llama.cpp', 'ollama', 'llamafile', 'gpustack', 'llama-cpp-python', 'koboldcpp'],
    hint: 'offloaded',
    re: /offloaded (\d+)\/(\d+) layers to GPU/,
    produce: (m, line) => [{ kind: 'offload', layers: Number(m[1]), total: Number(m[2]), line }],
  },
  // Buffers: "CUDA0 model buffer size" (ollama#11986), "CPU KV buffer size" (LLamaSharp#835), "Vulkan0 model buffer"
  // (qvac#21), "Metal model buffer" (gpustack#2040), "CUDA_Host output buffer" (koboldcpp#2330), old "CPU buffer size".
  {
    id: 'ggml-buffer',
    from: ['llama.cpp', 'ollama', 'koboldcpp', 'gpustack'],
    hint: 'buffer size',
    re: new RegExp(
      [
        /\b((?:CUDA|ROCm|Vulkan|MTL|SYCL|CANN)\d*(?:_Host|_Split)?|Metal|CPU(?:_Mapped|_AARCH64|_REPACK)?)/.source,
        /\s+(model |KV |compute |output |input )?buffer size\b/.source,
      ].join(''),
    ),
    produce: (m, line) => {
      const where = whereOfDevice(m[1] ?? '');
      if (!where) return [];
      return [placed(where, WHAT[(m[2] ?? 'model').trim().toLowerCase()] ?? 'weights', line)];
    },
  },
  // Layers placed: "load_tensors: layer 16 assigned to device CPU" (shimmy#130, ollama#10369), "… to device Vulkan0"
  // (llama.node#99), "llama_kv_cache_unified: layer   0: dev = CPU" (ollama#12586: the KV cache of that layer).
  {
    id: 'layer-device',
    from: ['llama.cpp', 'llama-cpp-python', 'ollama'],
    hint: ['assigned to device', 'dev = '],
    re: /layer\s+\d+(?: assigned to device |: dev = )(\w+)/,
    produce: (m, line) => {
      const where = whereOfDevice(m[1] ?? '');
      return where ? [placed(where, line.includes('dev = ') ? 'kv' : 'layer', line)] : [];
    },
  },
  // Ollama's own engine: msg="model weights" device=CPU size="12.8 GiB", msg="kv cache" device=CPU,
  // msg="compute graph" device=CPU (ollama#12147); msg="model weights" buffer=CUDA0 (ollama#10833).
  {
    id: 'ollama-memory-placement',
    from: ['ollama'],
    hint: ['model weights', 'kv cache', 'compute graph'],
    re: /msg="(model weights|kv cache|compute graph)" (?:device|buffer|backend)=(\w+)/,
    produce: (m, line) => {
      const where = whereOfDevice(m[2] ?? '');
      if (!where) return [];
      const what: What = m[1] === 'kv cache' ? 'kv' : m[1] === 'compute graph' ? 'compute' : 'weights';
      return [placed(where, what, line)];
    },
  },
  // stable-diffusion.cpp: "unet params backend buffer size = 2179.71 MB(VRAM)" (sd.cpp#395),
  // "vae compute buffer size: 1664.00 MB(RAM)" (sd.cpp#1044). Params in RAM may be --offload-to-cpu parking;
  // a compute buffer in RAM means that module computes on the CPU.
  {
    id: 'sdcpp-buffer',
    from: ['sd.cpp'],
    hint: 'buffer size',
    re: /(params backend|compute) buffer size\s*[:=]\s*[\d.]+\s*MB\((VRAM|RAM)\)/,
    produce: (m, line) => {
      const where: Where = m[2] === 'VRAM' ? 'gpu' : 'cpu';
      if (where === 'gpu') return [placed('gpu', m[1] === 'compute' ? 'compute' : 'weights', line)];
      if (m[1] !== 'compute') return [];
      // A compute buffer in RAM: with no GPU anywhere this is a CPU build; next to a GPU, a module computes on the CPU.
      const module = /(\w+) compute buffer/.exec(line)?.[1] ?? 'a module';
      return [
        { kind: 'cpu-used', declared: true, cause: 'cpu-build', line },
        { kind: 'partial', line, advice: `stable-diffusion.cpp computes ${module} on the CPU (its compute buffer is in RAM).` },
      ];
    },
  },
];

/**
 * Ollama's scheduler plan: msg=offload library=cuda layers.requested=-1 layers.model=81 layers.offload=44
 * (ollama#9181, where one log line was wrapped over two), msg="offload to rocm" (ollama#5913),
 * msg="offload to device" (intel/ipex-llm#13018). The plan is `planned`: the runner's own report wins.
 */
export function ollamaPlanExtractor(): StatefulExtractor {
  let model: { n: number; line: string } | undefined;
  return {
    id: 'ollama-offload-plan',
    from: ['ollama'],
    scan(line, lower) {
      if (!lower.includes('layers.')) return [];
      const facts: Fact[] = [];
      const lib = /msg=(?:offload library=(\w+)|"offload to (\w+)")/.exec(line);
      const b = lib ? backendOfLibrary(lib[1] ?? lib[2] ?? '') : undefined;
      if (b) facts.push({ kind: 'gpu-present', backend: b, line });
      const m = /layers\.model=(\d+)/.exec(line);
      if (m) model = { n: Number(m[1]), line };
      const o = /layers\.offload=(\d+)/.exec(line);
      if (o && model) {
        const evidence = model.line === line ? line : `${model.line.trim()} ${line.trim()}`;
        facts.push({ kind: 'offload', layers: Number(o[1]), total: model.n, planned: true, line: evidence });
        model = undefined;
      }
      return facts;
    },
  };
}
