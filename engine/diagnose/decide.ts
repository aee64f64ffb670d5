import type { Backend } from '../recipe/recipe.types.gen.js';
import { isGpuBackend, type Fact, type GpuBackend } from './facts.js';
import type { Fallback, Verdict } from './verdict.js';

const MAX_EVIDENCE = 8;

type Of<K extends Fact['kind']> = Extract<Fact, { kind: K }>;

/**
 * Facts (in log order) → the DESIGN §5 verdict. Precedence, strongest first:
 * 1. the loader's own "offloaded N/M layers" report;
 * 2. a line proving the runner has no GPU at all although one was planned (e.g. Ollama compatible=[]);
 * 3. a scheduler's placement plan (Ollama layers.offload);
 * 4. CPU-only lines, GPU lines, partial-placement lines;
 * and where nothing speaks, `unknown` — never a guess.
 * `expect` (the backend the app should use) turns a CPU run into a full fallback.
 */
export function decide(facts: readonly Fact[], expect?: Backend): Verdict {
  const all = <K extends Fact['kind']>(kind: K): Of<K>[] => facts.filter((f): f is Of<K> => f.kind === kind);
  const last = <T>(xs: T[]): T | undefined => xs[xs.length - 1];

  const gpus = all('gpu');
  const partials = all('partial');
  const cpus = all('cpu');
  const generic = all('gpu-generic');
  const offloads = all('offload');
  const actual = last(offloads.filter((o) => !o.planned));
  const planned = last(offloads.filter((o) => o.planned));
  const strongCpu = last(cpus.filter((c) => c.strong));
  const expectGpu: GpuBackend | undefined = isGpuBackend(expect) ? expect : undefined;
  const gpuBackend: GpuBackend | undefined =
    last(gpus)?.backend ?? last(partials.filter((p) => p.backend))?.backend ?? expectGpu;
  const gpuExpected =
    expectGpu !== undefined ||
    facts.some((f) => f.kind === 'gpu-present' || f.kind === 'gpu-wanted' || (f.kind === 'cpu' && f.wanted));

  const evidence: string[] = [];
  const advice: string[] = [];
  const cite = (...fs: (Fact | undefined)[]) => {
    for (const f of fs) if (f) pushUnique(evidence, f.line.trim());
  };
  const adviseFrom = (fs: Fact[]) => {
    for (const f of fs) if ('advice' in f && f.advice) pushUnique(advice, f.advice);
  };

  let backend: Backend;
  let fallback: Fallback;
  let offload: Verdict['offload'];

  const byOffload = (o: Of<'offload'>) => {
    offload = { layers: o.layers, total: o.total };
    cite(o);
    if (o.layers === 0) {
      backend = 'cpu';
      fallback = 'full';
      cite(last(gpus));
      advice.push(`No layer is on the GPU (0 of ${o.total}): the model runs on the CPU. Ask for GPU layers (-ngl 999 / gpuLayers "max" / num_gpu) and check the free GPU memory.`);
    } else {
      backend = gpuBackend ?? 'unknown';
      cite(last(gpus));
      if (o.layers < o.total) {
        fallback = 'partial';
        advice.push(`Only ${o.layers} of ${o.total} layers are on the GPU; the rest run on the CPU. Use a smaller quantisation or context, or on a Mac raise the GPU memory limit (orchard doctor shows the iogpu.wired_limit_mb command).`);
      } else {
        fallback = partials.length > 0 ? 'partial' : 'none';
        cite(...partials.slice(-3));
        adviseFrom(partials);
      }
    }
  };

  if (actual) byOffload(actual);
  else if (strongCpu) {
    backend = 'cpu';
    fallback = 'full';
    cite(planned, strongCpu);
    adviseFrom([strongCpu]);
  } else if (planned) byOffload(planned);
  else if (cpus.length > 0 && gpus.length === 0 && generic.length === 0) {
    backend = 'cpu';
    fallback = gpuExpected ? 'full' : 'none';
    cite(...facts.filter((f) => f.kind === 'gpu-present' || f.kind === 'gpu-wanted').slice(-2), ...cpus.slice(-3));
    adviseFrom(cpus);
  } else if (gpus.length > 0 || generic.length > 0) {
    const hardCpu = cpus.filter((c) => c.wanted);
    if (hardCpu.length > 0) {
      backend = 'cpu';
      fallback = 'full';
      cite(last(gpus), ...hardCpu.slice(-2));
      adviseFrom(hardCpu);
    } else {
      backend = gpus.length > 0 ? (last(gpus)?.backend ?? 'unknown') : (expectGpu ?? 'unknown');
      fallback = partials.length > 0 || cpus.length > 0 ? 'partial' : 'none';
      cite(last(gpus) ?? last(generic), ...partials.slice(-3), ...cpus.slice(-2));
      adviseFrom([...partials, ...cpus]);
    }
  } else if (partials.length > 0) {
    backend = gpuBackend ?? 'unknown';
    fallback = 'partial';
    cite(...partials.slice(-3));
    adviseFrom(partials);
  } else {
    backend = 'unknown';
    fallback = 'none';
    advice.push('The log does not say which backend ran. Diagnose a log that includes the start-up lines (model load, device selection), or run with verbose logging.');
  }

  // TypeScript cannot see that every branch above assigned these.
  const b = backend!;
  let fb = fallback!;
  if (b === 'cpu' && fb === 'none' && expectGpu) fb = 'full';
  if (fb === 'full' && b === 'cpu') {
    advice.push(expectGpu ? `Expected ${expectGpu}, but the work runs on the CPU.` : 'A GPU was asked for or is available, but the work runs on the CPU.');
  }
  if (expectGpu && isGpuBackend(b) && b !== expectGpu) {
    advice.push(`Expected ${expectGpu}, but the log shows ${b}.`);
  }
  const verdict: Verdict = { backend: b, fallback: fb, evidence: evidence.slice(0, MAX_EVIDENCE), advice };
  if (offload) verdict.offload = offload;
  return verdict;
}

function pushUnique(list: string[], value: string): void {
  if (value && !list.includes(value)) list.push(value);
}
