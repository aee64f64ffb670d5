import type { GpuBackend, Where } from '../facts.js';

/**
 * A ggml / torch device or buffer name → where it lives. "CUDA0", "ROCm1", "Vulkan0", "MTL0",
 * "Metal" and "mps" are GPUs; "CUDA_Host", "Vulkan_Host", "CPU", "CPU_Mapped", "CPU_AARCH64" are
 * host memory; SYCL, CANN and xpu are GPUs the verdict has no backend name for.
 */
export function whereOfDevice(name: string): Where | undefined {
  const n = name.toLowerCase();
  if (n.endsWith('_host') || n.startsWith('cpu')) return 'cpu';
  if (n.startsWith('cuda')) return 'cuda';
  if (n.startsWith('rocm') || n.startsWith('hip')) return 'rocm';
  if (n.startsWith('vulkan')) return 'vulkan';
  if (n.startsWith('mtl') || n.startsWith('metal') || n === 'mps') return 'metal';
  if (n.startsWith('sycl') || n.startsWith('cann') || n.startsWith('xpu') || n.startsWith('privateuseone')) return 'gpu';
  return undefined;
}

/** A library / platform word (Ollama "library=cuda", vLLM "platform rocm", "Using CUDA backend") → backend. */
export function backendOfLibrary(word: string): GpuBackend | undefined {
  const l = word.toLowerCase();
  if (l.startsWith('cuda') || l === 'cublas') return 'cuda';
  if (l.startsWith('rocm') || l.startsWith('hip')) return 'rocm';
  if (l === 'metal' || l.startsWith('mtl') || l === 'mps') return 'metal';
  if (l.startsWith('vulkan')) return 'vulkan';
  return undefined;
}

/**
 * A marketing GPU name → the backend a GPU of that make runs here. NVIDIA → cuda, Apple → metal;
 * AMD and Intel names say a GPU is there but not which API drives it (ROCm or Vulkan), so
 * `undefined` with `isGpuName` true.
 */
export function backendOfGpuName(name: string): GpuBackend | undefined {
  if (/\b(?:NVIDIA|GeForce|Tesla|Quadro|RTX|GTX|A100|H100|H800|A6000|L40S?)\b/i.test(name)) return 'cuda';
  if (/\bApple (?:M\d|Silicon)/i.test(name)) return 'metal';
  return undefined;
}

export function isGpuName(name: string): boolean {
  return backendOfGpuName(name) !== undefined || /\b(?:Radeon|Intel\(R\) Arc|Arc\(TM\)|Iris)/i.test(name);
}
