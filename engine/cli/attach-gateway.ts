import type { RunningServer } from '../api/server.js';
import { startService } from '../api/routes/index.js';
import type { GatewayInfo } from '../api/api-types.js';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { messageOf } from '../core/errors.js';
import { appPaths, type OrchardHome } from '../core/home.js';
import type { AppSource } from '../gateway/models.js';
import { readAppState } from '../install/state-store.js';
import { usableMemoryBytes } from '../gateway/budget.js';
import { startGateway, type RunningGateway } from '../gateway/server.js';
import { probeMachine } from '../hardware/probe.js';
import { DEFAULT_GATEWAY_PORT, effectiveGatewaySettings, type GatewaySettings } from '../settings/gateway-settings.js';

export interface AttachOptions {
  /** Beats settings and environment (`orchard serve --gateway-port`); 0 picks a free port. */
  port?: number;
  /** Settings on top of orchard.json and the environment (tests). */
  overrides?: GatewaySettings;
  /** The machine's usable memory (tests); default: probed. */
  usableMemoryBytes?: number;
  log?: (line: string) => void;
}

/**
 * Start the gateway next to a running API server, sharing its supervisor: models start the way
 * `orchard start` starts them (start scripts, diagnoser, metrics), and the API's /gateway routes
 * see the gateway. Returns undefined, having said why, when it is disabled or its port is taken:
 * Orchard itself keeps running.
 */
export async function attachGateway(server: RunningServer, o: AttachOptions = {}): Promise<RunningGateway | undefined> {
  const ctx = server.context;
  const log = o.log ?? ctx.log;
  const settings = (): GatewaySettings => ({ ...effectiveGatewaySettings(ctx.settings.gateway), ...(o.overrides ?? {}) });
  const initial = settings();
  const off = (reason: string): undefined => {
    ctx.gateway = { info: (): GatewayInfo => ({ enabled: false, models: [], reason }), unload: async () => false };
    log(`gateway: off (${reason})`);
    return undefined;
  };
  if (initial.enabled === false) return off('gateway.enabled is false in orchard.json');
  const port = o.port ?? initial.port ?? DEFAULT_GATEWAY_PORT;
  const usable = o.usableMemoryBytes ?? usableMemoryBytes(await probeMachine());
  let gateway: RunningGateway;
  try {
    gateway = await startGateway({
      home: ctx.home,
      supervisor: ctx.supervisor,
      apps: installedApps(ctx.home),
      start: async (id) => {
        await startService(ctx, id, true);
        return ctx.supervisor.status(id);
      },
      settings,
      usableMemoryBytes: usable,
      port,
      log,
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return off(
      code === 'EADDRINUSE' ? `port ${port} on 127.0.0.1 is in use; pick another with --gateway-port or gateway.port` : messageOf(err),
    );
  }
  ctx.gateway = {
    info: () => ({ enabled: true, ...gateway.status() }),
    unload: (id) => gateway.unload(id),
  };
  return gateway;
}

/** The installed apps, from each ORCHARD_HOME/apps/<id>/state.json. */
function installedApps(home: OrchardHome): AppSource {
  return {
    ids: async () =>
      existsSync(home.apps) ? (await readdir(home.apps, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name) : [],
    stamp: async (id) => {
      const s = await stat(path.join(appPaths(home, id).root, 'state.json')).catch(() => undefined);
      return s ? `${s.mtimeMs}:${s.size}` : undefined;
    },
    read: async (id) => {
      const state = await readAppState(appPaths(home, id));
      return (
        state && {
          id: state.id,
          lifecycle: state.lifecycle,
          recipeFile: state.recipe.file,
          profile: state.profile,
          inputs: state.inputs,
          updatedAt: state.updatedAt,
        }
      );
    },
  };
}
