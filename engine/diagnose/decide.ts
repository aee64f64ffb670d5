import type { Backend } from '../recipe/recipe.types.gen.js';
import { isGpuBackend, type Cause, type Fact, type GpuBackend } from './facts.js';
import type { Fallback, Verdict } from './verdict.js';

const MAX_EVIDENCE = 8;

type Of<K extends Fact['kind']> = Extract<Fact, { kind: K }>;
interface At<F> {
  f: F;
  i: number;
}

/**
 * Facts (in log order) → the DESIGN §5 verdict, in one place. Precedence, strongest first:
 *  1. a forced CPU start (--cpu) with nothing on a GPU after it → cpu, full;
 *  2. an error saying the GPU cannot be used (driver, CPU-only wheel or build), unless another GPU
 *     is used after it → cpu, full — it outranks a layer count printed by a build that has no device;
 *  3. the loader's "offloaded N/M layers": 0 → cpu/full, some → partial, all → none;
 *  4. an out-of-memory naming a device → that device was in use;
 *  5. a scheduler's plan (Ollama layers.offload);
 *  6. devices opened for the work and buffers/layers placed, against CPU placement lines;
 *  7. weak signs (listing tables) and devices merely found;
 * and where nothing speaks, `unknown` with the reason — never a guess.
 * A CPU verdict is a `full` fallback unless the log itself shows there was no GPU to use
 * (discovery found none, a CPU build chosen on purpose) and nothing expected one.
 */
export function decide(facts: readonly Fact[], expect?: Backend): Verdict {
  const all = <K extends Fact['kind']>(kind: K): At<Of<K>>[] => {
    const out: At<Of<K>>[] = [];
    facts.forEach((f, i) => {
      if (f.kind === kind) out.push({ f: f as Of<K>, i });
    });
    return out;
  };
  const last = <T>(xs: T[]): T | undefined => xs[xs.length - 1];
  const expectGpu: GpuBackend | undefined = isGpuBackend(expect) ? expect : undefined;

  const used = all('gpu-used').filter((u) => !u.f.weak);
  const weak = all('gpu-used').filter((u) => u.f.weak);
  const ooms = all('gpu-oom');
  const present = all('gpu-present');
  const wanted = all('gpu-wanted');
  const cpus = all('cpu-used');
  const unusable = all('gpu-unusable');
  const forced = all('forced-cpu');
  const partials = all('partial');
  const limits = all('memory-limit');
  const placements = all('placement');
  const offloads = all('offload');
  const actual = last(offloads.filter((o) => !o.f.planned));
  const planned = last(offloads.filter((o) => o.f.planned));

  const gpuPlaced = placements.filter((p) => p.f.where !== 'cpu');
  const cpuPlaced = placements.filter((p) => p.f.where === 'cpu');
  const gpuHolds = (what: string) => gpuPlaced.some((p) => p.f.what === what);
  const cpuHolds = (what: string) => cpuPlaced.some((p) => p.f.what === what);
  // KV cache on the CPU next to weights or KV on a GPU, or layers on both: not everything is offloaded.
  const placementSplit =
    (cpuHolds('kv') && (gpuHolds('kv') || gpuHolds('weights') || gpuHolds('layer'))) || (cpuHolds('layer') && gpuHolds('layer'));
  // Where the work went according to placement lines alone (buffer-only evidence counts).
  const cpuOnlyPlacement = cpuPlaced.some((p) => p.f.what !== 'output') && gpuPlaced.length === 0;

  /** Every index where a GPU was shown doing work. */
  const gpuWork: At<Fact & { backend?: GpuBackend }>[] = [
    ...used,
    ...ooms,
    ...gpuPlaced.map((p) => ({ i: p.i, f: { ...p.f, ...(p.f.where !== 'gpu' && p.f.where !== 'cpu' ? { backend: p.f.where } : {}) } })),
  ].sort((a, b) => a.i - b.i);
  const lastGpuWork = last(gpuWork);
  const namedBackend = (): GpuBackend | undefined =>
    last(gpuWork.filter((g) => g.f.backend).map((g) => g.f.backend)) ??
    last(weak.filter((w) => w.f.backend).map((w) => w.f.backend)) ??
    last(present.filter((p) => p.f.backend).map((p) => p.f.backend)) ??
    last(wanted.filter((w) => w.f.backend).map((w) => w.f.backend)) ??
    last(partials.filter((p) => p.f.backend).map((p) => p.f.backend)) ??
    expectGpu;

  const evidence: string[] = [];
  const causes = new Set<Cause>();
  const extraAdvice: string[] = [];
  const cite = (...xs: (At<Fact> | undefined)[]) => {
    for (const x of xs) if (x) pushUnique(evidence, x.f.line.trim());
  };
  const citePartials = () => {
    cite(...partials.slice(-3));
    for (const p of partials) {
      if (p.f.cause) causes.add(p.f.cause);
      if (p.f.advice) pushUnique(extraAdvice, p.f.advice);
    }
    if (placementSplit) {
      cite(last(cpuPlaced.filter((p) => p.f.what === 'kv' || p.f.what === 'layer')));
      causes.add('layers');
    }
  };

  let backend: Backend = 'unknown';
  let fallback: Fallback = 'none';
  let offload: Verdict['offload'];
  if (actual) offload = { layers: actual.f.layers, total: actual.f.total };
  else if (planned) offload = { layers: planned.f.layers, total: planned.f.total };

  const lastForced = last(forced);
  const lastUnusable = last(unusable);
  /** GPU work after index i; with `failed`, also any work on another backend (the failure concerned only that one). */
  const gpuAfter = (i: number, failed?: GpuBackend) =>
    gpuWork.some((g) => g.i > i || (failed !== undefined && g.f.backend !== undefined && g.f.backend !== failed));

  const cpuVerdict = (reasonFacts: (At<Fact> | undefined)[], cause?: Cause) => {
    backend = 'cpu';
    fallback = 'full';
    cite(last(present), ...reasonFacts);
    if (cause) causes.add(cause);
  };

  const byOffload = (o: At<Of<'offload'>>) => {
    const { layers, total } = o.f;
    if (layers === 0) {
      cpuVerdict([o], unusable.length > 0 ? undefined : 'layers');
      return;
    }
    backend = namedBackend() ?? 'unknown';
    cite(o, lastGpuWork ?? last(present));
    if (layers < total) {
      fallback = 'partial';
      causes.add('memory');
    } else if (partials.length > 0 || placementSplit) {
      fallback = 'partial';
    }
    citePartials();
  };

  if (lastForced && !gpuAfter(lastForced.i)) {
    cpuVerdict([lastForced, last(cpus)], 'flag');
  } else if (lastUnusable && !gpuAfter(lastUnusable.i, lastUnusable.f.backend)) {
    cpuVerdict([lastUnusable, actual], lastUnusable.f.cause);
  } else if (actual) {
    byOffload(actual);
  } else if (ooms.length > 0) {
    const o = last(ooms);
    backend = o?.f.backend ?? namedBackend() ?? 'unknown';
    cite(o);
    causes.add('memory');
    if (partials.length > 0 || placementSplit) fallback = 'partial';
    citePartials();
  } else if (planned && !(last(cpus) && (last(cpus)?.i ?? 0) > planned.i && !last(cpus)?.f.declared)) {
    byOffload(planned);
  } else {
    const strongCpu = cpus.filter((c) => !c.f.declared);
    const lastCpu = last(strongCpu);
    const lastGpu = lastGpuWork;
    if (lastGpu && !(lastCpu && lastCpu.i > lastGpu.i)) {
      backend = namedBackend() ?? 'unknown';
      cite(lastGpu);
      if (partials.length > 0 || placementSplit) fallback = 'partial';
      citePartials();
    } else if (lastCpu || cpuOnlyPlacement || cpus.length > 0) {
      backend = 'cpu';
      const declaredOnly = strongCpu.length === 0 && !cpuOnlyPlacement;
      const gpuSeen = present.length > 0 || wanted.length > 0 || weak.length > 0 || expectGpu !== undefined;
      fallback = declaredOnly && !gpuSeen ? 'none' : 'full';
      cite(last(present), last(wanted), ...cpus.slice(-2), last(cpuPlaced.filter((p) => p.f.what !== 'output')));
      for (const c of cpus) if (c.f.cause) causes.add(c.f.cause);
      if (fallback === 'full' && causes.size === 0) causes.add(present.length > 0 || wanted.length > 0 ? 'layers' : 'none-found');
    } else if (weak.length > 0) {
      backend = namedBackend() ?? 'unknown';
      cite(last(weak));
      if (partials.length > 0) fallback = 'partial';
      citePartials();
    } else if (present.length > 0) {
      backend = namedBackend() ?? 'unknown';
      cite(last(present));
      if (partials.length > 0) fallback = 'partial';
      citePartials();
    } else if (partials.length > 0) {
      backend = namedBackend() ?? 'unknown';
      fallback = 'partial';
      citePartials();
    }
  }

  for (const l of limits) {
    causes.add('memory');
    if (evidence.length < MAX_EVIDENCE) pushUnique(evidence, l.f.line.trim());
  }

  const b: Backend = backend;
  let fb: Fallback = fallback;
  if (b === 'cpu' && expectGpu) fb = 'full';
  const advice = adviceFor({ backend: b, fallback: fb, causes, offload, expectGpu, unknown: b === 'unknown' && evidence.length === 0 });
  for (const a of extraAdvice) pushUnique(advice, a);
  const verdict: Verdict = { backend: b, fallback: fb, evidence: evidence.slice(0, MAX_EVIDENCE), advice };
  if (offload) verdict.offload = offload;
  return verdict;
}

interface AdviceInput {
  backend: Backend;
  fallback: Fallback;
  causes: ReadonlySet<Cause>;
  offload: Verdict['offload'];
  expectGpu: GpuBackend | undefined;
  unknown: boolean;
}

const ADVICE = {
  unknown:
    'The log does not say which backend ran (no device, buffer, layer or error line). ' +
    'Diagnose a log that includes the start-up lines (model load, device selection), or run with verbose logging.',
  driver: (api: string) =>
    `The ${api} device could not be opened: check the GPU driver and toolkit (nvidia-smi / rocminfo must list the GPU; ` +
    "a driver at least as new as the build's CUDA version), and that the process can see the device " +
    '(CUDA_VISIBLE_DEVICES, container --gpus).',
  cpuWheel:
    'A CPU-only torch wheel is installed: reinstall torch from the CUDA index (https://download.pytorch.org/whl/cu12x) ' +
    '— or the default macOS arm64 wheel for MPS — in the app environment.',
  cpuBuild: 'This build has no GPU backend: install a Metal (macOS), CUDA/ROCm or Vulkan build of the runner.',
  unsupported:
    'The GPU is there but this build does not support it: use a build for this GPU generation ' +
    '(for NVIDIA, a build or torch wheel compiled for its compute capability — RTX 50xx needs CUDA 12.8 (cu128) or newer; ' +
    'for AMD, a ROCm build with its gfx target or HSA_OVERRIDE_GFX_VERSION; for MPS, a newer macOS and torch).',
  cpuFeatures:
    'The runner switched the GPU off because this CPU lacks AVX, which its GPU build needs. In a virtual machine, ' +
    'expose the host CPU to the guest (CPU type "host" / CPU passthrough); otherwise use a build compiled without AVX.',
  flag:
    'The app was told to use the CPU for this work (--cpu / --always-cpu / --device cpu / *-on-cpu): ' + 'remove the flag to use the GPU.',
  noLayers: (total: number) =>
    `No layer is on the GPU (0 of ${total}): ask for GPU layers (-ngl 999 / gpuLayers "max" / num_gpu) ` + 'and check the free GPU memory.',
  someLayers:
    'Not every layer or the KV cache is on the GPU: offload all layers (-ngl 999 / gpuLayers "max") ' + 'and keep the KV cache on the GPU.',
  memory: (layers: string, mac: boolean) =>
    `${layers}GPU memory is the limit: use a smaller quantisation, a shorter context or a smaller batch/resolution` +
    (mac ? ' or raise the macOS GPU memory limit (orchard doctor shows the iogpu.wired_limit_mb command)' : '') +
    '.',
  noneFound: 'No usable GPU was found: if this machine has one, check its driver and that this build supports it.',
  cpuFallback: 'The work runs on the CPU although a GPU was expected or available.',
};

/** Advice follows the evidence: each cause has its own fix, and a driver problem is not a layer count. */
function adviceFor(v: AdviceInput): string[] {
  if (v.unknown) return [ADVICE.unknown];
  const advice: string[] = [];
  const gpu = v.expectGpu ?? (isGpuBackend(v.backend) ? v.backend : undefined);
  const c = v.causes;
  if (c.has('driver')) advice.push(ADVICE.driver(gpu === 'rocm' ? 'ROCm' : gpu === 'metal' ? 'Metal' : 'CUDA'));
  if (c.has('cpu-wheel')) advice.push(ADVICE.cpuWheel);
  if (c.has('cpu-build')) advice.push(ADVICE.cpuBuild);
  if (c.has('unsupported')) advice.push(ADVICE.unsupported);
  if (c.has('cpu-features')) advice.push(ADVICE.cpuFeatures);
  if (c.has('flag')) advice.push(ADVICE.flag);
  if (c.has('layers')) advice.push(v.offload && v.offload.layers === 0 ? ADVICE.noLayers(v.offload.total) : ADVICE.someLayers);
  if (c.has('memory')) {
    const o = v.offload;
    const layers = o && o.layers < o.total ? `Only ${o.layers} of ${o.total} layers fit on the GPU. ` : '';
    advice.push(ADVICE.memory(layers, v.backend === 'metal' || v.expectGpu === 'metal'));
  }
  if (c.has('none-found') && v.fallback === 'full') advice.push(ADVICE.noneFound);
  if (v.backend === 'cpu' && v.fallback === 'full' && advice.length === 0) advice.push(ADVICE.cpuFallback);
  if (v.expectGpu && v.backend === 'cpu') advice.unshift(`Expected ${v.expectGpu}, but the work runs on the CPU.`);
  if (v.expectGpu && isGpuBackend(v.backend) && v.backend !== v.expectGpu) {
    advice.unshift(`Expected ${v.expectGpu}, but the log shows ${v.backend}.`);
  }
  return advice;
}

function pushUnique(list: string[], value: string): void {
  if (value && !list.includes(value)) list.push(value);
}
