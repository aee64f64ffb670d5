/**
 * One app's status as the supervisor reports it (CLI `status --json`, API, UI).
 * - stopped: not running (never started, or stopped on request).
 * - starting: launched, waiting for its readiness check (also between restarts).
 * - ready: readiness passed and health checks pass.
 * - unhealthy: health checks fail while it runs, or it never became ready in time (then its
 *   processes were stopped and `error` says why, with the last log lines).
 * - crashed: it exited on its own and the restart policy gave up (or is about to retry: see
 *   `nextRestartAt`).
 */
export type AppState = 'stopped' | 'starting' | 'ready' | 'unhealthy' | 'crashed';

export interface AppStatus {
  app: string;
  state: AppState;
  pid?: number;
  port?: number;
  /** http://127.0.0.1:<port><ui or /> */
  url?: string;
  /** Epoch ms when the current (or last) run was launched. */
  startedAt?: number;
  /** Epoch ms when it last became ready. */
  readyAt?: number;
  restarts: number;
  exitCode?: number | null;
  signal?: string | null;
  /** When a restart is scheduled (epoch ms). */
  nextRestartAt?: number;
  /** Why it is unhealthy, crashed or failed to start; includes the last log lines. */
  error?: string;
  /** Run number, 1 for the first launch; each restart or port retry adds one. */
  run: number;
}
