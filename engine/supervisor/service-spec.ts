import path from 'node:path';
import type { PlannedService } from '../recipe/plan-types.js';

/**
 * What the supervisor needs to run one service: a plain object, independent of recipes, so the API,
 * the CLI and tests can all build one. `argv` and `env` values may contain the literal `{{port}}`,
 * replaced by the port the engine allocates (or by `port` when it is fixed).
 */
export interface ServiceSpec {
  argv: string[];
  cwd: string;
  /** The child's whole environment (nothing else is inherited). */
  env: Record<string, string>;
  /** A fixed port; when absent the engine allocates a free one (and retries on a collision). */
  port?: number;
  readiness: { http?: string; log?: string; timeoutMs: number };
  restart: { policy: 'never' | 'on-failure' | 'always'; maxRestarts: number; backoffMs: number };
  stopGraceMs: number;
  /** Per-run log files go here (created when missing). */
  logDir: string;
  /** Health checks while running (HTTP readiness path only). Defaults: every 2 s, unhealthy after 3 failures. */
  health?: { intervalMs?: number; failuresBeforeUnhealthy?: number };
  /** Log file rotation. Defaults: 5 MiB per file, 3 rotated files per run, the last 5 runs kept. */
  logs?: { maxBytes?: number; keepRotated?: number; keepRuns?: number; ringLines?: number };
  /** Path of the app's own web UI, appended to the service URL for "Open". */
  ui?: string;
}

export const PORT_PLACEHOLDER = '{{port}}';

/** Replace every `{{port}}` in argv and env values. */
export function withPort(spec: ServiceSpec, port: number): { argv: string[]; env: Record<string, string> } {
  const put = (value: string): string => value.split(PORT_PLACEHOLDER).join(String(port));
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(spec.env)) env[key] = put(value);
  return { argv: spec.argv.map(put), env };
}

export interface SpecFromPlanOptions {
  /** The compiled Orchard CLI entry (engine/cli/main.js): bundled services run `node <cli> service <type>`. */
  cliPath: string;
  /** Where run logs go, usually apps/<id>/logs. */
  logDir: string;
  /** The environment under the service's own variables (the plan's sandboxEnv, PATH…). Default: PATH only. */
  baseEnv?: Record<string, string>;
  /** The node binary for bundled services. Default: the one running Orchard. */
  nodePath?: string;
}

/** The `orchard service <name>` a bundled service runs: an MLX LLM runs the mlx wrapper, the rest their type. */
export function bundledServiceName(service: Pick<PlannedService, 'type' | 'engine'>): string {
  return service.type === 'llm' && service.engine === 'mlx' ? 'mlx' : service.type;
}

/**
 * Turn the plan's service into a spec. Bundled types (llm, image, video) run Orchard's own service
 * process; `command` runs the recipe's argv. PORT is set too, for apps that read it from the env.
 */
export function specFromPlannedService(service: PlannedService, options: SpecFromPlanOptions): ServiceSpec {
  const argv =
    service.type === 'command'
      ? [...(service.command ?? []), ...service.args]
      : [
          options.nodePath ?? process.execPath,
          options.cliPath,
          'service',
          bundledServiceName(service),
          '--port',
          PORT_PLACEHOLDER,
          ...service.args,
        ];
  const baseEnv = options.baseEnv ?? (process.env['PATH'] ? { PATH: process.env['PATH'] } : {});
  return {
    argv,
    cwd: path.resolve(service.cwd),
    env: { ...baseEnv, PORT: PORT_PLACEHOLDER, ...service.env },
    readiness: { ...service.readiness },
    restart: { ...service.restart },
    stopGraceMs: service.stopGraceMs,
    logDir: options.logDir,
    ...(service.ui !== undefined ? { ui: service.ui } : {}),
  };
}
