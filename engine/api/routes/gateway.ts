import type { ApiContext } from '../api-context.js';
import type { GatewayInfo } from '../api-types.js';
import { HttpError } from '../http-errors.js';
import { checkAppId } from './apps.js';

/** GET /gateway: where the gateway listens (for the UI and `orchard ps`) and the models it holds. */
export function gatewayInfo(ctx: ApiContext): GatewayInfo {
  return ctx.gateway?.info() ?? { enabled: false, models: [], reason: 'this Orchard server runs without the gateway' };
}

/** POST /gateway/models/:id/unload: stop a loaded model now (requests running on it are cut off). */
export async function unloadModel(ctx: ApiContext, id: string): Promise<{ unloaded: boolean; gateway: GatewayInfo }> {
  checkAppId(id);
  if (!ctx.gateway)
    throw new HttpError(
      409,
      'SERVICE',
      'the gateway is not running',
      'Start Orchard with the gateway on (it is, unless gateway.enabled is false).',
    );
  const unloaded = await ctx.gateway.unload(id);
  if (!unloaded && ctx.supervisor.status(id).state !== 'stopped') {
    throw new HttpError(
      409,
      'SERVICE',
      `${id} is not loaded by the gateway`,
      `It was started by hand: stop it with \`orchard stop ${id}\`.`,
    );
  }
  return { unloaded, gateway: gatewayInfo(ctx) };
}
