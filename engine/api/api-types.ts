/**
 * The local API contract (DESIGN §8), shared by the server (engine/api) and the web UI (ui/, which
 * imports these types only — it talks to the engine over HTTP and WebSocket, never by import).
 *
 * Security: listens on 127.0.0.1 only. Every HTTP request carries `Authorization: Bearer <token>`
 * (the `token` of ORCHARD_HOME/orchard.json, mode 0600). The WebSocket carries the token as the
 * subprotocol `orchard.token.<token>` (browsers cannot set headers on a WebSocket; a subprotocol
 * keeps it out of URLs and logs). Host must be a loopback name with the server's port; an Origin,
 * when sent, must be the server's own (http://127.0.0.1:<port> or http://localhost:<port>).
 * Refusals: 401 no/wrong token, 421 foreign Host, 403 foreign Origin. No CORS headers are ever sent.
 * The UI gets the token from the Electron preload, or from the URL `orchard serve` prints
 * (`http://127.0.0.1:<port>/#token=<token>`: a fragment is never sent to a server; the UI reads it
 * once, keeps it in sessionStorage and removes it from the address bar).
 */
import type { DownloadEvent, LogEvent, StepEvent } from '../core/events.js';
import type { Verdict } from '../diagnose/verdict.js';
import type { Lifecycle } from '../install/app-state.js';
import type { LoraProgress } from '../install/lora-types.js';
export type { LoraPoint, LoraProgress } from '../install/lora-types.js';
import type { Plan } from '../recipe/plan-types.js';
import type { AppKind, Service } from '../recipe/recipe.types.gen.js';
import type { AppState } from '../supervisor/index.js';

/** GET /api/v1/doctor answers this (engine/hardware/doctor-report.ts). */
export type { DoctorReport } from '../hardware/doctor-report.js';
/**
 * Image and video services (engine/services/diffusion): a job as `GET /v1/jobs/:id` and its SSE
 * events (`event: state|progress`, `data: <snapshot>`) show it, and the body `POST /v1/jobs` takes
 * (through the service proxy below).
 */
export type {
  JobRequest as MediaJobRequest,
  JobSnapshot as MediaJob,
  StepProgress as MediaStepProgress,
} from '../services/diffusion/diffusion-engine.js';

export const API_PREFIX = '/api/v1';
/** The WebSocket subprotocol the server selects; the token rides beside it as `orchard.token.<token>`. */
export const WS_PROTOCOL = 'orchard.v1';
export const WS_TOKEN_PREFIX = 'orchard.token.';

/** Every error body: `{ error: { code, message, where?, hint? } }` with a fitting HTTP status. */
export interface ApiError {
  error: { code: string; message: string; where?: string; hint?: string };
}

/** The supervisor's state of an app's service. */
export type ServiceState = AppState;

export interface ServiceStatus {
  state: ServiceState;
  pid?: number;
  port?: number;
  /** http://127.0.0.1:<port><ui>, only for apps whose recipe's service has a `ui` (their own web UI: "Open"). */
  url?: string;
  startedAt?: string;
  restarts: number;
  exit?: { code: number | null; signal: string | null };
  message?: string;
}

export interface FitSummary {
  verdict: 'fits' | 'fits-after-raising-limit' | 'does-not-fit' | 'unknown';
  /** Every line below (blockers first), for older clients. */
  reasons: string[];
  /** What stops it here (platform, accelerator, tools, not enough memory or disk). */
  blockers: string[];
  /** Plain facts that are not problems ("needs 16 GiB of memory; this machine has 23.5 GiB"). */
  facts: string[];
  /** The one blocker "Install anyway (runs on CPU, slow)" — the CLI's --allow-cpu — accepts. */
  allowCpuAccepts?: string;
}

/** GET /api/v1/catalog */
export interface CatalogEntry {
  id: string;
  name: string;
  version: string;
  kind: AppKind;
  description?: string;
  source: 'bundled' | 'user';
  file: string;
  accelerators: string[];
  platforms: string[];
  memoryGiB?: number;
  diskGiB?: number;
  /** Sum of the pinned weight sizes for the default inputs; undefined when some are unpinned. */
  downloadBytes?: number;
  /** True when install steps fetch more than the weights (git clones, pip/uv, archives): the download is larger. */
  fetchesMore?: boolean;
  fit: FitSummary;
  installed?: Lifecycle;
  /**
   * The model this recipe serves and its engine. Recipes of one family are one model: the entry of
   * the engine preferred here (MLX on darwin-arm64, GGUF elsewhere) has preferred true and lists the others.
   */
  model?: { family: string; engine: 'gguf' | 'mlx'; preferred: boolean; others: { id: string; name: string; engine: 'gguf' | 'mlx' }[] };
}
export interface CatalogResponse {
  recipes: CatalogEntry[];
  problems: { file: string; error: ApiError['error'] }[];
}

/** GET /api/v1/apps and GET /api/v1/apps/:id */
export interface AppSummary {
  id: string;
  name: string;
  kind: string;
  version: string;
  lifecycle: Lifecycle;
  inputs: Record<string, string | number | boolean>;
  verdict?: Verdict;
  allowCpu: boolean;
  service: ServiceStatus;
  hasService: boolean;
  /** The recipe's service type (llm, image, video or command): which "Try it" panel fits. */
  serviceType?: Service['type'];
  /** Steps of the install journal in plan order, for the step list. */
  steps: { key: string; kind: string; title?: string; status: 'running' | 'done' | 'failed'; error?: string; log?: string }[];
}

/**
 * POST /api/v1/plan  body: { recipe: id-or-path, profile?, inputs? } → Plan
 * or { text: recipe JSON, profile?, inputs? }: unsaved editor text, validated, then planned as if saved
 * in ORCHARD_HOME/recipes/<id>/ (its `{{recipe.dir}}`); an invalid text answers 400 RECIPE_INVALID.
 */
export interface PlanRequest {
  recipe?: string;
  text?: string;
  profile?: string;
  inputs?: Record<string, string>;
}
export type PlanResponse = Plan;

/**
 * POST /api/v1/apps/:id/install   body: { recipe?: id-or-path (default :id), inputs?, allowCpu?, force?, allowUnconfined? }
 * POST /api/v1/apps/:id/update    body: { inputs?, allowCpu?, allowUnconfined? }
 * POST /api/v1/apps/:id/uninstall body: { purgeModels?: boolean }  (default: keep models)
 * Each answers 202 { job } at once; progress comes over the WebSocket; GET /api/v1/jobs/:id polls.
 */
export interface InstallRequest {
  recipe?: string;
  inputs?: Record<string, string>;
  allowCpu?: boolean;
  force?: boolean;
  /** Run steps this machine cannot confine (plan.unconfined); refused without it. */
  allowUnconfined?: boolean;
}
export interface Job {
  id: string;
  app: string;
  operation: 'install' | 'update' | 'uninstall';
  state: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  finishedAt?: string;
  steps: { key: string; kind: string; title: string; status: StepEvent['status']; elapsedMs?: number; message?: string }[];
  /** Keyed by the download event's `file`, which is the weight id. */
  downloads: Record<string, Omit<DownloadEvent, 'type'>>;
  /** The plan's weights: id → file name (as the app sees it under models/), to label downloads. */
  weightFiles?: Record<string, string>;
  error?: ApiError['error'];
}

/** POST /api/v1/apps/:id/start → ServiceStatus; POST /api/v1/apps/:id/stop → ServiceStatus */
/** GET /api/v1/apps/:id/logs?tail=200 → { lines: string[] } (live lines come over the WebSocket) */
/** GET /api/v1/apps/:id/metrics → { samples: MetricsSample[] } (the last few minutes) */
export interface MetricsSample {
  at: number;
  cpuPercent: number;
  rssBytes: number;
  gpuPercent?: number;
  /** LLM services: the speed of the latest completion, from the service's GET /metrics. */
  tokensPerSecond?: number;
  /** Image/video services: sampling speed of the running job, from the service's GET /v1/jobs. */
  stepsPerSecond?: number;
}

/**
 * ALL /api/v1/apps/:id/service/<path> → proxied to the running service at 127.0.0.1:<port>/<path>
 * (streams SSE through), so the UI's "Try it" panels need no CORS on services.
 */

/** GET /api/v1/doctor → DoctorReport. POST /api/v1/fit { recipe | model, context? } → fit JSON (DESIGN §7). */
/** POST /api/v1/diagnose { log: string, expect?: string } → Verdict */

/** POST /api/v1/recipes/validate { text } → errors located by line for the editor. */
export interface ValidateResponse {
  ok: boolean;
  errors: { pointer: string; message: string; hint?: string; line?: number; column?: number }[];
}
/** GET /api/v1/recipes/:id → { id, file, text }: a catalog recipe's text, for the editor. */
/** POST /api/v1/recipes { text } → saves to ORCHARD_HOME/recipes/<id>/recipe.json → { id, file } */

/** GET /api/v1/settings → Settings; PUT /api/v1/settings { home?, hfToken?, concurrency? } */
export interface Settings {
  home: string;
  /** Never the token itself. */
  hfTokenSet: boolean;
  concurrency: number;
}

/** WebSocket messages from GET /api/v1/events (server → client only). */
export type ServerMessage =
  | { type: 'hello'; version: string }
  | { type: 'job'; job: Job }
  | ({ type: 'step'; job: string } & Omit<StepEvent, 'type'>)
  | ({ type: 'download'; job: string } & Omit<DownloadEvent, 'type'>)
  | ({ type: 'log'; job?: string } & Omit<LogEvent, 'type'>)
  | { type: 'status'; app: string; status: ServiceStatus }
  | { type: 'metrics'; app: string; sample: MetricsSample }
  | { type: 'verdict'; app: string; verdict: Verdict };

/** GET /api/v1/apps/:id/lora: LoRA trainings of an MLX app, newest state of each (see engine/install/lora.ts). */
export interface LoraRunsResponse {
  runs: LoraProgress[];
}

/** GET /cluster: paired hosts and the running cluster apps (a self-contained view, no engine types). */
export interface ClusterOverview {
  hosts: {
    name: string;
    destination: string;
    port: number;
    fingerprint: string;
    direct?: { address: string };
    link?: { rttMs?: number; mibPerSecond?: number; checkedAt: string; error?: string };
    peer?: {
      platform: string;
      accelerator: string;
      budgetBytes: number;
      ramBytes: number;
      orchardVersion: string;
      engine: { version: string } | null;
    };
  }[];
  runs: {
    app: string;
    health: {
      status: string;
      restarts: number;
      lastFailure?: string;
      tensorSplit: number[];
      note: string;
      nodes: {
        name: string;
        role: 'worker' | 'head';
        state: string;
        error?: string;
        measured?: { model: number; kv: number; compute: number };
        predicted: {
          layers: [number, number] | null;
          output: boolean;
          bytes: { weights: number; kv: number; compute: number; total: number };
          budgetBytes: number;
          fits: boolean;
        } | null;
      }[];
    };
  }[];
  note: string;
}

/** One model the gateway has loaded (or is loading): GET /api/v1/gateway, `orchard ps`, the Models page. */
export interface GatewayLoadedModel {
  id: string;
  name: string;
  kind: 'llm' | 'image';
  /** unloading: being stopped; its memory is not free yet. */
  state: 'loading' | 'ready' | 'unloading';
  /** "gateway": loaded on demand (unloaded after its keep-alive); "user": started by hand, never unloaded unasked. */
  startedBy: 'gateway' | 'user';
  port?: number;
  /** The fit prediction of the whole service process. */
  predictedBytes: number;
  /** What it counts against the budget (the GPU part on a GPU). */
  budgetBytes: number;
  /** Resident memory of its process tree, from the supervisor's last sample. */
  measuredBytes?: number;
  /** Epoch ms it unloads at if still idle. */
  expiresAt?: number;
  /** "4m 59s", "busy", "forever". */
  keepAlive: string;
  active: number;
  queued: number;
  requests: number;
  completionTokens: number;
  tokensPerSecond?: number;
  loadedAt?: number;
  lastUsedAt: number;
}

/** GET /api/v1/gateway: where the gateway listens and what it holds. `enabled: false` when it is off. */
export interface GatewayInfo {
  enabled: boolean;
  port?: number;
  /** http://127.0.0.1:11435/v1 for OpenAI clients. */
  openaiBaseUrl?: string;
  /** http://127.0.0.1:11435 for Ollama clients. */
  ollamaBaseUrl?: string;
  authRequired?: boolean;
  budgetBytes?: number;
  usedBytes?: number;
  defaultKeepAlive?: string;
  models: GatewayLoadedModel[];
  /** Why it is off (disabled in settings, its port taken…). */
  reason?: string;
}
