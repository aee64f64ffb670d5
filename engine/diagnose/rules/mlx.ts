import type { Fact, Rule } from '../facts.js';

/**
 * MLX (mlx-lm, mflux, mlx-video). MLX runs on the Apple GPU unless told otherwise, so its own
 * output proves Metal; `Device(cpu, 0)` proves the opposite. Lines that taught these patterns:
 *   "Prompt: 32159 tokens, 261.786 tokens-per-sec" / "Peak memory: 13.523 GB" (ml-explore/mlx-examples#1029)
 *   "Trial 1:  prompt_tps=2902.212, generation_tps=205.325, peak_memory=3.285"  (ml-explore/mlx-lm#396)
 */
export function mlxRule(): Rule {
  return {
    family: 'mlx',
    scan(line) {
      const facts: Fact[] = [];
      if (/^(Prompt|Generation): \d+ tokens, [\d.]+ tokens-per-sec/.test(line.trim()) || /prompt_tps=[\d.]+, generation_tps=[\d.]+/.test(line)) {
        facts.push({ kind: 'gpu', backend: 'metal', line });
      }
      if (/Device\(gpu, \d+\)/.test(line)) facts.push({ kind: 'gpu', backend: 'metal', line });
      if (/Device\(cpu, \d+\)/.test(line)) facts.push({ kind: 'cpu', wanted: false, line, advice: 'MLX runs on the CPU: remove mx.set_default_device(mx.cpu) / --device cpu.' });
      return facts;
    },
  };
}
