import type { Fact, GpuBackend, Rule } from '../facts.js';

/**
 * Ollama server logs, runner logs and `ollama ps`. Lines that taught these patterns:
 *   msg="inference compute" id=GPU-6c0b… library=cuda variant=v12 compute=6.1 … name="NVIDIA GeForce GTX 1050 Ti"  (ollama/ollama#8972)
 *   msg="inference compute" id="" library=cpu compute="" driver=0.0 name="" total="64.0 GiB"   (ollama/ollama#1016)
 *   msg="no compatible GPUs were discovered"                                                    (zhaohb/ollama_ov#6)
 *   msg=offload library=cuda layers.requested=-1 layers.model=81 \n layers.offload=44           (ollama/ollama#9181, wrapped over lines)
 *   msg="offload to device" layers.requested=-1 layers.model=33 layers.offload=0                (intel/ipex-llm#13018)
 *   msg="compatible gpu libraries" compatible=[]                                               (ollama/ollama#11723: the runner has no GPU library)
 *   msg="model weights" buffer=CUDA0 size="12.7 GiB"                                            (ollama/ollama#10833)
 *   msg="user override" OLLAMA_LLM_LIBRARY=metal                                                (ollama/ollama#1016)
 *   `ollama ps`: "llama3:70b  be39eb53a197  41 GB  42%/58% CPU/GPU  4 minutes from now"         (ollama/ollama#4531)
 *                "llama3.2:latest  a80c4f17acd5  4.0 GB  100% GPU  2 minutes from now"          (ollama/ollama-python#490)
 * layers.* lines are the scheduler's plan: the runner's own "offloaded N/M" line wins when present.
 */
export function ollamaRule(): Rule {
  let layersModel: { n: number; line: string } | undefined;
  return {
    family: 'ollama',
    scan(line) {
      const facts: Fact[] = [];
      const lib = /inference compute.*?library=(\w+)/.exec(line);
      if (lib) {
        const backend = libraryBackend(lib[1] ?? '');
        if (backend) facts.push({ kind: 'gpu', backend, line });
        else if (lib[1] === 'cpu') facts.push({ kind: 'cpu', wanted: false, line, advice: 'Ollama found no GPU it can use ("library=cpu"): check the GPU driver and that Ollama supports this GPU.' });
      }
      if (line.includes('no compatible GPUs were discovered')) facts.push({ kind: 'cpu', wanted: false, line });
      if (/"compatible gpu libraries" compatible=\[\]/.test(line)) {
        facts.push({ kind: 'cpu', wanted: true, strong: true, line, advice: 'The Ollama runner found no GPU library (compatible=[]): reinstall Ollama with its lib/ollama GPU libraries next to the binary, and unset OLLAMA_LLM_LIBRARY / LD_LIBRARY_PATH overrides.' });
      }
      const planLib = /msg=offload library=(\w+)/.exec(line);
      if (planLib) {
        const backend = libraryBackend(planLib[1] ?? '');
        if (backend) facts.push({ kind: 'gpu', backend, line });
      }
      const model = /layers\.model=(\d+)/.exec(line);
      if (model) layersModel = { n: Number(model[1]), line };
      const offload = /layers\.offload=(\d+)/.exec(line);
      if (offload && layersModel) {
        facts.push({ kind: 'offload', layers: Number(offload[1]), total: layersModel.n, planned: true, line: layersModel.line === line ? line : `${layersModel.line.trim()} ${line.trim()}` });
        layersModel = undefined;
      }
      const weights = /msg="model weights" buffer=(\w+)/.exec(line);
      if (weights && /^CUDA\d+$/.test(weights[1] ?? '')) facts.push({ kind: 'gpu', backend: 'cuda', line });
      const graph = /msg="compute graph" backend=(\w+)/.exec(line);
      if (graph && /^(CUDA|ROCm|Metal|MTL|Vulkan)/.test(graph[1] ?? '')) facts.push({ kind: 'gpu', backend: libraryBackend(graph[1] ?? '') ?? 'cuda', line });

      const override = /OLLAMA_LLM_LIBRARY=(\w+)/.exec(line);
      if (override && /user override/.test(line)) {
        const backend = libraryBackend(override[1] ?? '');
        facts.push(backend ? { kind: 'gpu-wanted', backend, line } : { kind: 'gpu-wanted', line });
      }
      if (/--n-gpu-layers [1-9]/.test(line)) facts.push({ kind: 'gpu-wanted', line });

      // `ollama ps` PROCESSOR column.
      const split = /\b(\d+)%\/(\d+)% CPU\/GPU\b/.exec(line);
      if (split) facts.push({ kind: 'partial', line, advice: `Ollama keeps ${split[1]}% of the model on the CPU: use a smaller quantisation or context (num_ctx) so it fits in GPU memory.` });
      else if (/\s100% GPU\b/.test(line)) facts.push({ kind: 'gpu-generic', line });
      else if (/\s100% CPU\b/.test(line)) facts.push({ kind: 'cpu', wanted: false, line });
      return facts;
    },
  };
}

function libraryBackend(lib: string): GpuBackend | undefined {
  const l = lib.toLowerCase();
  if (l.startsWith('cuda')) return 'cuda';
  if (l.startsWith('rocm')) return 'rocm';
  if (l === 'metal' || l.startsWith('mtl')) return 'metal';
  if (l.startsWith('vulkan')) return 'vulkan';
  return undefined;
}
