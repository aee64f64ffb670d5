import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { messageOf } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';
import type { GatewaySettings } from '../settings/gateway-settings.js';
import { DEFAULT_KEEP_ALIVE, DEFAULT_MAX_QUEUE } from '../settings/gateway-settings.js';
import type { Supervisor } from '../supervisor/index.js';
import type { GatewayContext, RequestNote } from './context.js';
import { GatewayError } from './gateway-error.js';
import { generateImages, serveImageFile } from './images.js';
import { parseKeepAlive } from './keep-alive.js';
import { ModelCatalog, type AppSource, type GatewayModel } from './models.js';
import { chat, embed, generateRoute, OLLAMA_API_VERSION, ps, sendJson, sendOllamaError, show, tags } from './ollama.js';
import { forwardOpenAi, getModel, listModels, sendOpenAiError } from './openai.js';
import { Scheduler, type LoadedModel, type StartApp } from './scheduler.js';
import { checkGatewayRequest, originAllowed } from './security.js';

export interface GatewayOptions {
  home: OrchardHome;
  supervisor: Supervisor;
  /** The installed apps (their state), read by the install layer's owner. */
  apps: AppSource;
  /** Starts an app as `orchard start` does (resolves with its status once ready). */
  start: StartApp;
  /** Read at every use, so a settings change applies without a restart. */
  settings: () => GatewaySettings;
  /** The machine's usable memory for models, when gateway.memoryBudgetBytes is not set. */
  usableMemoryBytes: number;
  /** 0 picks a free port (tests). Default: settings.port, else 11435. */
  port: number;
  log?: (line: string) => void;
}

/** What `orchard serve`, the API and `orchard ps` see of the gateway. */
export interface GatewayStatus {
  port: number;
  openaiBaseUrl: string;
  ollamaBaseUrl: string;
  authRequired: boolean;
  budgetBytes: number;
  usedBytes: number;
  defaultKeepAlive: string;
  models: LoadedModel[];
}

export interface RunningGateway {
  port: number;
  url: string;
  status(): GatewayStatus;
  /** Every installed model it can serve, with its budget cost (its fit prediction). */
  models(): Promise<GatewayModel[]>;
  unload(appId: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The one loopback address the gateway binds. */
const BIND = '127.0.0.1';

/** Start the gateway: one OpenAI + Ollama endpoint for every installed model (DESIGN §10). */
export async function startGateway(o: GatewayOptions): Promise<RunningGateway> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const settings = (): GatewaySettings => o.settings();
  const budget = (): number => settings().memoryBudgetBytes ?? o.usableMemoryBytes;
  const keepAliveOf = (value: string | number | undefined): number | undefined => {
    if (value === undefined) return undefined;
    try {
      return parseKeepAlive(value, 'gateway.keepAlive');
    } catch {
      return undefined;
    }
  };
  const scheduler = new Scheduler({
    supervisor: o.supervisor,
    start: o.start,
    budgetBytes: budget,
    defaultKeepAliveMs: () => keepAliveOf(settings().keepAlive) ?? parseKeepAlive(DEFAULT_KEEP_ALIVE),
    appKeepAliveMs: (id) => keepAliveOf(settings().apps?.[id]?.keepAlive),
    maxQueue: () => settings().maxQueue ?? DEFAULT_MAX_QUEUE,
    log,
  });
  const ctx: GatewayContext = {
    catalog: new ModelCatalog(o.home, o.apps, () => settings().apps ?? {}),
    scheduler,
    port: 0,
    images: new Map(),
    log,
  };
  const server = createServer((req, res) => {
    void handle(ctx, settings, req, res);
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: BIND, port: o.port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the gateway has no TCP address');
  ctx.port = address.port;
  const url = `http://${BIND}:${ctx.port}`;
  let closing: Promise<void> | undefined;
  return {
    port: ctx.port,
    url,
    status: () => ({
      port: ctx.port,
      openaiBaseUrl: `${url}/v1`,
      ollamaBaseUrl: url,
      authRequired: settings().apiKey !== undefined,
      budgetBytes: budget(),
      usedBytes: scheduler.usedBytes(),
      defaultKeepAlive: String(settings().keepAlive ?? DEFAULT_KEEP_ALIVE),
      models: scheduler.list(),
    }),
    models: () => ctx.catalog.list(),
    unload: (id) => scheduler.unload(id),
    close: () =>
      (closing ??= (async () => {
        server.close();
        for (const socket of sockets) socket.destroy();
        await scheduler.close();
      })()),
  };
}

async function handle(ctx: GatewayContext, settings: () => GatewaySettings, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = Date.now();
  const note: RequestNote = {};
  const raw = req.url ?? '/';
  const path = (raw.split('?')[0] ?? '/').replace(/\/+$/, '') || '/';
  const ollama = path.startsWith('/api/');
  const method = req.method ?? 'GET';
  res.on('finish', () => logRequest(ctx, method, path, res.statusCode, started, note));
  res.on('close', () => {
    if (!res.writableFinished) logRequest(ctx, method, path, 499, started, note);
  });
  try {
    if (!raw.startsWith('/')) throw new GatewayError(400, 'request target must be a path');
    const s = settings();
    const access = { port: ctx.port, origins: s.origins ?? [], ...(s.apiKey !== undefined ? { apiKey: s.apiKey } : {}) };
    checkGatewayRequest(req.headers, access, method === 'OPTIONS');
    const origin = req.headers.origin;
    if (origin !== undefined && originAllowed(origin, access.origins)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'Origin');
    }
    if (method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'authorization, content-type',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    await route(ctx, method, path, req, res, note);
  } catch (err) {
    const e = asGatewayError(err);
    if (e.status === 499) {
      res.destroy();
      return;
    }
    if (e.status === 500) ctx.log(`gateway: ${method} ${path} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    if (ollama) sendOllamaError(res, e);
    else sendOpenAiError(res, e);
  }
}

async function route(
  ctx: GatewayContext,
  method: string,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
  note: RequestNote,
): Promise<void> {
  const want = (m: string): void => {
    if (method !== m && !(m === 'GET' && method === 'HEAD'))
      throw new GatewayError(405, `${path} accepts ${m}, not ${method}`, { code: 'method_not_allowed' });
  };
  switch (path) {
    case '/':
      want('GET');
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Orchard gateway is running (OpenAI API at /v1, Ollama API at /api)');
      return;
    case '/v1/models':
      want('GET');
      return sendJson(res, 200, await listModels(ctx));
    case '/v1/chat/completions':
    case '/v1/completions':
    case '/v1/embeddings':
      want('POST');
      return forwardOpenAi(ctx, req, res, note, path);
    case '/v1/images/generations':
      want('POST');
      return generateImages(ctx, req, res, note);
    case '/api/tags':
      want('GET');
      return sendJson(res, 200, await tags(ctx));
    case '/api/ps':
      want('GET');
      return sendJson(res, 200, await ps(ctx));
    case '/api/version':
      want('GET');
      return sendJson(res, 200, { version: OLLAMA_API_VERSION });
    case '/api/show':
      want('POST');
      return sendJson(res, 200, await show(ctx, req));
    case '/api/chat':
      want('POST');
      return chat(ctx, req, res, note);
    case '/api/generate':
      want('POST');
      return generateRoute(ctx, req, res, note);
    case '/api/embed':
      want('POST');
      return embed(ctx, req, res, note);
    case '/api/embeddings':
      want('POST');
      return embed(ctx, req, res, note, true);
    default:
      if (path.startsWith('/v1/models/')) {
        want('GET');
        return sendJson(res, 200, await getModel(ctx, decodeURIComponent(path.slice('/v1/models/'.length))));
      }
      if (path.startsWith('/v1/images/files/')) {
        want('GET');
        return serveImageFile(ctx, path.slice('/v1/images/files/'.length), res);
      }
      throw new GatewayError(404, `no route ${path} (the OpenAI API is under /v1, the Ollama API under /api)`, { code: 'unknown_url' });
  }
}

function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  return new GatewayError(500, `internal error in the gateway: ${messageOf(err)}`);
}

/** One line per routed request: method, path, model, status, time, queue and load waits; never a body. */
function logRequest(ctx: GatewayContext, method: string, path: string, status: number, started: number, note: RequestNote): void {
  const parts = [`gateway: ${method} ${path}`, `status=${status}`, `${Date.now() - started}ms`];
  if (note.model) parts.push(`model=${note.model}`);
  if (note.queuePosition) parts.push(`queued-behind=${note.queuePosition}`);
  if (note.loadMs !== undefined && note.loadMs > 0) parts.push(`wait=${note.loadMs}ms`);
  if (note.tokens !== undefined) parts.push(`tokens=${note.tokens}`);
  ctx.log(parts.join(' '));
}
