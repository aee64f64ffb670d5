import type { JobPhase, MemoryPlacement } from './diffusion-engine.js';
import { parseLogLine, stripAnsi } from './log-line.js';
import { emptyPlacement, readMemoryLine } from './memory-lines.js';
import { phaseOf } from './phase.js';
import { isLoadingBar, parseStepLine, type StepLine } from './step-line.js';

export type SdOutputEvent =
  | { type: 'step'; step: StepLine }
  | { type: 'tile'; step: StepLine }
  | { type: 'phase'; phase: JobPhase; detail: string }
  | { type: 'memory' }
  | { type: 'loading'; line: string };

/**
 * Reads sd-server's output one line at a time (after splitting on \r and \n) and turns it into
 * progress events. Step bars count as sampling steps except while decoding, where sd.cpp reuses the
 * same bar for VAE tiles. Loading bars (MB/s, GB/s) are never steps.
 */
export class SdOutputReader {
  readonly memory: MemoryPlacement = emptyPlacement();
  private stage: JobPhase = 'loading';

  get phase(): JobPhase {
    return this.stage;
  }

  /** Start of a new job: the next bars belong to it. */
  resetStage(stage: JobPhase = 'queued'): void {
    this.stage = stage;
  }

  read(rawLine: string): SdOutputEvent[] {
    const line = stripAnsi(rawLine);
    const events: SdOutputEvent[] = [];
    if (isLoadingBar(line)) events.push({ type: 'loading', line: line.trim() });
    else {
      const step = parseStepLine(line);
      if (step) events.push({ type: this.stage === 'decoding' ? 'tile' : 'step', step });
    }
    const log = parseLogLine(line);
    if (log) {
      if (readMemoryLine(line, this.memory)) events.push({ type: 'memory' });
      if (log.level === 'INFO') {
        const phase = phaseOf(log.text);
        if (phase) {
          this.stage = phase;
          events.push({ type: 'phase', phase, detail: log.text });
        }
      }
    }
    return events;
  }
}
