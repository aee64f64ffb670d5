import type { Verdict } from '../../diagnose/verdict.js';

/**
 * The small surface the image/video job API needs from an engine. sd.cpp (`sd-server`) is the first
 * implementation; a ComfyUI or mflux adapter would implement the same interface.
 */
export type JobKind = 'text-to-image' | 'text-to-video' | 'image-to-video';
export type JobState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';
/** Coarse stage of a running job, from the engine's phase log lines. */
export type JobPhase = 'queued' | 'loading' | 'conditioning' | 'sampling' | 'decoding' | 'saving' | 'done';

export interface JobRequest {
  kind: JobKind;
  prompt: string;
  negative?: string;
  width?: number;
  height?: number;
  steps?: number;
  seed?: number;
  cfg?: number;
  /** Video only: requested frame count (normalised to 4n+1 for Wan). */
  frames?: number;
  /** Video only: playback rate (Wan 2.1 is 16 fps). */
  fps?: number;
  /** Image-to-video: the start image, raw base64 or a data URL. */
  initImage?: string;
}

export interface StepProgress {
  step: number;
  steps: number;
  /** As printed: seconds per iteration or iterations per second. */
  speed: number;
  unit: 's/it' | 'it/s';
  secondsPerStep: number;
  etaSeconds: number;
}

export interface JobResult {
  mimeType: string;
  /** File extension without the dot (png, webm, webp, avi, mp4). */
  extension: string;
  /** Where the result was saved (results are files, never kept in memory). */
  file: string;
  fps?: number;
  frameCount?: number;
}

export interface JobSnapshot {
  id: string;
  kind: JobKind;
  state: JobState;
  phase: JobPhase;
  /** The engine's own words for the current phase (its last INFO line). */
  phaseDetail?: string;
  progress?: StepProgress;
  /** VAE tile progress while decoding (sd.cpp reuses its step bar for tiles). */
  decode?: { tile: number; tiles: number };
  /** Effective request after defaults and normalisation (frames 4n+1, fps…). */
  request: JobRequest;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  error?: { message: string; logTail?: string[]; signal?: string; exitCode?: number };
  /** Things the user should know about the result (e.g. "ffmpeg not on PATH: kept WebM"). */
  notes: string[];
  result?: { mimeType: string; extension: string; bytes: number; file?: string; fps?: number; frameCount?: number };
}

export type JobEvent = { type: 'state'; job: JobSnapshot } | { type: 'progress'; job: JobSnapshot };

export interface MemoryPlacement {
  /** Per module from "total params memory size … name XMB(VRAM|RAM)". */
  params: { module: string; mb: number; where: 'VRAM' | 'RAM' }[];
  /** Per runner from "<runner> compute buffer size: X MB(VRAM|RAM)" (latest value per runner). */
  compute: { runner: string; mb: number; where: 'VRAM' | 'RAM' }[];
  evidence: string[];
}

export interface EngineHealth {
  status: 'starting' | 'ready' | 'restarting' | 'failed' | 'stopped';
  backend: string;
  model: string;
  memory: MemoryPlacement;
  verdict: Verdict;
  /** The last crash of the engine process, if any. */
  lastExit?: { code: number | null; signal: string | null; logTail: string[] };
}

export interface DiffusionEngine {
  /** Check the machine can run the engine on the expected backend; never starts generation. */
  preflight(): Promise<Verdict>;
  start(): Promise<void>;
  submit(request: JobRequest): JobSnapshot;
  cancel(id: string): Promise<JobSnapshot>;
  job(id: string): JobSnapshot | undefined;
  result(id: string): JobResult | undefined;
  /** Subscribe to job events; returns the unsubscribe function. */
  onEvent(listener: (event: JobEvent) => void): () => void;
  health(): EngineHealth;
  stop(): Promise<void>;
}
