/**
 * Progress events: what the CLI prints, the API streams over its WebSocket and the UI draws.
 * Producers call an `emit` they are given; they never know who listens.
 */
export type StepStatus = 'pending' | 'running' | 'done' | 'skipped' | 'failed';

export interface StepEvent {
  type: 'step';
  app: string;
  step: string;
  kind: string;
  title: string;
  status: StepStatus;
  elapsedMs?: number;
  message?: string;
}

export interface LogEvent {
  type: 'log';
  app: string;
  step?: string;
  stream: 'stdout' | 'stderr' | 'system';
  line: string;
}

export interface DownloadEvent {
  type: 'download';
  app?: string;
  /** Weight id or file name. */
  file: string;
  url: string;
  bytesDone: number;
  bytesTotal?: number;
  bytesPerSecond: number;
  etaSeconds?: number;
  done?: boolean;
}

export type ProgressEvent = StepEvent | LogEvent | DownloadEvent;
export type Emit = (event: ProgressEvent) => void;

export const ignoreEvents: Emit = () => {};
