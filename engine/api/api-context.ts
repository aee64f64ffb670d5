import type { Verdict } from '../diagnose/verdict.js';
import type { OrchardHome } from '../core/home.js';
import type { SettingsFile } from '../settings/settings.js';
import type { Supervisor } from '../supervisor/index.js';
import type { GatewayInfo, MetricsSample, ServerMessage } from './api-types.js';
import type { EventHub } from './event-hub.js';
import type { JobManager } from './job-manager.js';
import type { LiveDiagnoser } from '../diagnose/live.js';
import type { Backend } from '../recipe/recipe.types.gen.js';

/** Samples kept per app for GET /metrics (about five minutes at one a second). */
export const METRICS_KEPT = 300;

/** Everything a route handler may use: the one supervisor, the jobs, the event hub, settings. */
export interface ServiceThroughput {
  /** Where to read it: an LLM's GET /metrics, or an image/video service's GET /v1/jobs. */
  kind: 'llm' | 'media';
  tokensPerSecond?: number;
  stepsPerSecond?: number;
  /** LLM: completion tokens counted at the last read, to tell a new completion from an old speed. */
  completionTokens?: number;
}

export interface ApiContext {
  home: OrchardHome;
  /** The port the server listens on (known once it listens). */
  port: number;
  /** Read from orchard.json at start; never put in a response, a log line or an error. */
  readonly token: string;
  settings: SettingsFile;
  supervisor: Supervisor;
  jobs: JobManager;
  hub: EventHub;
  /** The compiled CLI entry: bundled services run `node <cliPath> service <type>`. */
  cliPath: string;
  metrics: Map<string, MetricsSample[]>;
  /** Apps whose running service has its own web UI (the recipe's `service.ui`): only they get a `url`. */
  uiApps: Set<string>;
  /** Throughput of each running service (tokens/s or steps/s), merged into its metrics samples. */
  throughput: Map<string, ServiceThroughput>;
  verdicts: Map<string, Verdict>;
  diagnosers: Map<string, LiveDiagnoser>;
  publish(message: ServerMessage): void;
  /** Set up the live diagnoser of an app before its service starts (expected backend from the plan). */
  prepareDiagnosis(app: string, expect: Backend | undefined): Promise<void>;
  log(line: string): void;
  /** The gateway, when `orchard serve` runs one (it attaches itself after the server starts). */
  gateway?: GatewayHandle;
}

/** What the API needs of the gateway (engine/gateway, wired by the CLI): its status and unloading. */
export interface GatewayHandle {
  info(): GatewayInfo;
  unload(appId: string): Promise<boolean>;
}
