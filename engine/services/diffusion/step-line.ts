/**
 * sd.cpp's step bar (src/core/util.cpp print_progress_line): "\r  |====>   | i/n - 3.21s/it\033[K".
 * The unit flips to it/s when faster than 1 s/it. Weight loading uses the same bar with MB/s or
 * GB/s, which this pattern rejects by its unit, whatever the bar character.
 */
const STEP = /(\d+)\/(\d+) - ([\d.]+)(s\/it|it\/s)/;

export interface StepLine {
  step: number;
  steps: number;
  speed: number;
  unit: 's/it' | 'it/s';
  secondsPerStep: number;
}

export function parseStepLine(line: string): StepLine | undefined {
  const m = STEP.exec(line);
  if (!m || m[1] === undefined || m[2] === undefined || m[3] === undefined) return undefined;
  const step = Number(m[1]);
  const steps = Number(m[2]);
  const speed = Number(m[3]);
  const unit = m[4] === 'it/s' ? 'it/s' : 's/it';
  if (!Number.isFinite(speed) || steps <= 0 || step > steps) return undefined;
  return { step, steps, speed, unit, secondsPerStep: unit === 'it/s' ? (speed > 0 ? 1 / speed : 0) : speed };
}

/** A loading bar ("… 1068/1108 - 105.41MB/s"): worth recognising so nobody mistakes it for steps. */
export function isLoadingBar(line: string): boolean {
  return /\d+\/\d+ - [\d.]+[KMG]B\/s/.test(line);
}
