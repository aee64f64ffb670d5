import type { ServerResponse } from 'node:http';
import { GatewayError } from './gateway-error.js';
import type { GatewayModel, ModelCatalog } from './models.js';
import type { Scheduler } from './scheduler.js';

/** A finished image the gateway serves at /v1/images/files/<key> (the `url` response format). */
export interface ImageFile {
  appId: string;
  jobId: string;
  mimeType: string;
  file?: string;
}

/** What every route handler uses. */
export interface GatewayContext {
  catalog: ModelCatalog;
  scheduler: Scheduler;
  /** The port the gateway listens on. */
  port: number;
  /** Keep-alive from the settings and per app (ms), when a request gives none. */
  images: Map<string, ImageFile>;
  log(line: string): void;
}

/** What the request log line says about one request (never a body). */
export interface RequestNote {
  model?: string;
  queuePosition?: number;
  loadMs?: number;
  tokens?: number;
}

export type Handler = (
  ctx: GatewayContext,
  req: import('node:http').IncomingMessage,
  res: ServerResponse,
  note: RequestNote,
) => Promise<void>;

/** The model a request names, or a 404 that lists the ones it could have named. */
export async function resolveModel(
  ctx: GatewayContext,
  name: unknown,
  kind: GatewayModel['kind'] | undefined,
): Promise<{ model: GatewayModel; known: GatewayModel[] }> {
  if (typeof name !== 'string' || name.trim() === '')
    throw new GatewayError(400, 'you must provide a model parameter', { param: 'model', code: 'missing_model' });
  const { model, known } = await ctx.catalog.find(name);
  const usable = known.filter((m) => kind === undefined || m.kind === kind);
  if (!model || (kind !== undefined && model.kind !== kind)) {
    const list =
      usable.map((m) => m.id).join(', ') ||
      `none: install ${kind === 'image' ? 'an image' : 'an LLM'} app first (orchard install <recipe>)`;
    const what = model
      ? `${model.id} is ${kindName(model.kind)}, not ${kindName(kind ?? 'llm')}.`
      : `The model \`${name}\` does not exist.`;
    throw new GatewayError(404, `${what} Known models: ${list}.`, { param: 'model', code: 'model_not_found' });
  }
  return { model, known };
}

function kindName(kind: GatewayModel['kind']): string {
  return kind === 'image' ? 'an image model' : 'a language model';
}
