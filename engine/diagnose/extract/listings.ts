import type { Pattern } from '../facts.js';

/**
 * Listing tables pasted next to a log: the PROCESSOR column of `ollama ps` and `nvidia-smi`'s device
 * and process tables. They say where a model sits, not what the loader did, so they are weaker
 * than placement lines (`ollama ps` says "100% GPU" for runners that compute on the CPU: ollama#7323).
 */
export const listingPatterns: readonly Pattern[] = [
  // `ollama ps`: "llama3:70b  be39eb53a197  41 GB  42%/58% CPU/GPU  4 minutes from now" (ollama#4531).
  {
    id: 'ollama-ps-split',
    from: ['ollama'],
    hint: 'cpu/gpu',
    re: /\b(\d+)%\/(\d+)% CPU\/GPU\b/,
    produce: (m, line) => [
      {
        kind: 'partial',
        cause: 'memory',
        line,
        advice: `Ollama keeps ${m[1]}% of the model on the CPU: use a smaller quantisation or context (num_ctx) so it fits in GPU memory.`,
      },
    ],
  },
  // `ollama ps`: "… 8.1 GB    100% CPU     9 minutes from now" (intel/ipex-llm#13018, ollama#8963) and "100% GPU" (ollama-python#490).
  {
    id: 'ollama-ps-all',
    from: ['ollama'],
    hint: '100% ',
    re: /\s100% (GPU|CPU)\s/,
    produce: (m, line) => (m[1] === 'GPU' ? [{ kind: 'gpu-used', weak: true, line }] : [{ kind: 'cpu-used', line }]),
  },
  // nvidia-smi device row: "|   0  Tesla V100-SXM2-32GB           Off | 00000000:2D:00.0 Off |" (ollama#8963).
  {
    id: 'nvidia-smi-device',
    from: ['ollama'],
    hint: '|',
    re: /^\|\s+\d+\s+(?:NVIDIA|Tesla|Quadro|GeForce)\b[^|]*\|\s+[0-9A-F]{8}:[0-9A-F]{2}:[0-9A-F]{2}\.\d/,
    produce: (_m, line) => [{ kind: 'gpu-present', backend: 'cuda', line }],
  },
  // nvidia-smi memory column: "|   5615MiB / 15360MiB |" — a GPU holding gigabytes is doing someone's work
  // (ollama#1438), a GPU holding 3 MiB is idle (ollama#8963).
  {
    id: 'nvidia-smi-memory',
    from: ['ollama'],
    hint: 'mib /',
    re: /\|\s+(\d+)MiB \/\s+(\d+)MiB\s+\|/,
    produce: (m, line) => (Number(m[1]) >= 1024 ? [{ kind: 'gpu-used', backend: 'cuda', weak: true, line }] : []),
  },
  // nvidia-smi process table: "|    0   N/A  N/A    1234      C   …/ollama_llama_server    5120MiB |" (seen in ollama#11676):
  // a process holding gigabytes of GPU memory is computing there (desktop processes hold far less).
  {
    id: 'nvidia-smi-process',
    from: [],
    untaught: "nvidia-smi's own process table layout (a GPU process holding memory); the corpus's nvidia-smi excerpts show no process rows",
    hint: 'mib |',
    re: /^\|\s+\d+\s+(?:N\/A\s+N\/A\s+)?\d+\s+(?:C|G|C\+G)\s+\S.*?\s(\d+)MiB\s+\|\s*$/,
    produce: (m, line) => (Number(m[1]) >= 1024 ? [{ kind: 'gpu-used', backend: 'cuda', weak: true, line }] : []),
  },
];
