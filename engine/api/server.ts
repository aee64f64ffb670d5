import { existsSync, readFileSync } from 'node:fs';
import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { isOrchardError, messageOf } from '../core/errors.js';
import { isInside, type OrchardHome } from '../core/home.js';
import { repoRoot } from '../core/repo-root.js';
import { removeServerInfo, writeServerInfo } from '../settings/server-info.js';
import { ensureSettings } from '../settings/settings.js';
import { runRecordDir, Supervisor, type AppMetrics } from '../supervisor/index.js';

import { METRICS_KEPT, type ApiContext, type ServiceThroughput } from './api-context.js';
import { API_PREFIX, type ServerMessage } from './api-types.js';
import { EventHub } from './event-hub.js';
import { errorBody, HttpError, sendError } from './http-errors.js';
import { sendJson } from './http-io.js';
import { JobManager } from './job-manager.js';
import { createLiveDiagnoser } from '../diagnose/live.js';
import { bindRoute } from './request-validation.js';
import { ANSWERED, findRoute, WithStatus } from './router.js';
import { EVENTS_PATH, restoreServiceContext, routes } from './routes/index.js';
import { checkRequest } from './security.js';
import { SESSION_PATH, sessionExchange } from './session-route.js';
import { toMetricsSample, toServiceStatus } from './service-status.js';
import { readThroughput } from './service-throughput.js';
import { readServiceVerdict } from './service-verdict.js';
import { serveUi } from './static-ui.js';

export interface ServerOptions {
  home: OrchardHome;
  /** 0 (default) picks a free port. */
  port?: number;
  /** The built UI; default ui/dist of the package when it exists. */
  uiDir?: string;
  /** The compiled CLI entry for bundled services; default the one next to this file. */
  cliPath?: string;
  /** Where the server's own messages go (never the token). Default: stderr. */
  log?: (line: string) => void;
  /** Supervisor metrics period (tests make it short). */
  metricsIntervalMs?: number;
  /** Write ORCHARD_HOME/server.json (default true). */
  writeServerJson?: boolean;
}

export interface RunningServer {
  port: number;
  /** The address it is bound to (always 127.0.0.1). */
  address: string;
  /** http://127.0.0.1:<port>/ (without the token). */
  url: string;
  context: ApiContext;
  close(): Promise<void>;
}

/** The one place that binds: loopback only, never 0.0.0.0 or ::. */
export const BIND_ADDRESS = '127.0.0.1';

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const settings = await ensureSettings(o.home);
  const hub = new EventHub(packageVersion());
  const publish = (message: ServerMessage): void => hub.publish(message);
  const diagnosers: ApiContext['diagnosers'] = new Map();
  const verdicts: ApiContext['verdicts'] = new Map();
  const baselines: ApiContext['verdicts'] = new Map();

  const supervisor = new Supervisor({
    recordDir: runRecordDir(o.home),
    ...(o.metricsIntervalMs !== undefined ? { metricsIntervalMs: o.metricsIntervalMs } : {}),
    onLine: (app, line) => {
      const diagnoser = diagnosers.get(app);
      if (!diagnoser) return;
      diagnoser.push(line.line);
      const verdict = diagnoser.verdict();
      // Only a verdict the output changed is news: before that, the install-time proof stands.
      const previous = verdicts.get(app) ?? baselines.get(app);
      // A log that does not say (unknown) never replaces a verdict that does.
      if (verdict?.backend === 'unknown' && previous && previous.backend !== 'unknown') return;
      if (verdict && JSON.stringify(verdict) !== JSON.stringify(previous)) {
        verdicts.set(app, verdict);
        publish({ type: 'verdict', app, verdict });
      }
    },
  });
  const metrics: ApiContext['metrics'] = new Map();
  const uiApps: ApiContext['uiApps'] = new Set();
  const throughput: ApiContext['throughput'] = new Map();
  supervisor.on('status', (s) => publish({ type: 'status', app: s.app, status: toServiceStatus(s, { hasUi: uiApps.has(s.app) }) }));
  supervisor.on('log', (l) => publish({ type: 'log', app: l.app, stream: l.stream, line: l.line }));
  const reading = new Set<string>();
  supervisor.on('metrics', (m) => {
    // The service's own speed rides on the supervisor's sample: read it now (bounded in time), one
    // read per app at a time; a slow service's sample goes out with the last known speed.
    const known = throughput.get(m.app);
    const status = supervisor.status(m.app);
    if (!known || status.state !== 'ready' || status.port === undefined || reading.has(m.app)) {
      record(m, known);
      return;
    }
    reading.add(m.app);
    const port = status.port;
    void readThroughput(port, known.kind, known)
      .then(async (read) => {
        const current = throughput.get(m.app);
        if (read && current) throughput.set(m.app, { kind: current.kind, ...read });
        record(m, throughput.get(m.app));
        // Image/video services prove their device themselves: that beats a log that does not say.
        const live = verdicts.get(m.app);
        if (known.kind === 'media' && (!live || live.backend === 'unknown')) {
          const verdict = await readServiceVerdict(port);
          if (verdict && JSON.stringify(verdict) !== JSON.stringify(verdicts.get(m.app))) {
            verdicts.set(m.app, verdict);
            publish({ type: 'verdict', app: m.app, verdict });
          }
        }
      })
      .finally(() => reading.delete(m.app));
  });
  const record = (m: AppMetrics, speed: ServiceThroughput | undefined): void => {
    const sample = toMetricsSample(m, speed);
    const kept = metrics.get(m.app) ?? [];
    kept.push(sample);
    if (kept.length > METRICS_KEPT) kept.splice(0, kept.length - METRICS_KEPT);
    metrics.set(m.app, kept);
    publish({ type: 'metrics', app: m.app, sample });
  };

  const ctx: ApiContext = {
    home: o.home,
    port: 0,
    token: settings.token,
    settings,
    supervisor,
    jobs: new JobManager(settings.concurrency, publish),
    hub,
    cliPath: o.cliPath ?? fileURLToPath(new URL('../cli/main.js', import.meta.url)),
    metrics,
    uiApps,
    throughput,
    verdicts,
    diagnosers,
    publish,
    log,
    async prepareDiagnosis(app, expect) {
      verdicts.delete(app);
      const diagnoser = createLiveDiagnoser(expect === undefined ? {} : { expect });
      diagnosers.delete(app);
      baselines.delete(app);
      diagnosers.set(app, diagnoser);
      const initial = diagnoser.verdict();
      if (initial) baselines.set(app, initial);
    },
  };
  const uiDir = chooseUiDir(o, log);
  // Apps a crashed server left running are taken over, not started a second time.
  for (const app of await supervisor.adopt()) {
    log(`re-adopted ${app} (pid ${supervisor.status(app).pid ?? '?'}), left running by an earlier Orchard server`);
    await restoreServiceContext(ctx, app).catch((err: unknown) =>
      log(`re-adopted ${app}, but its recipe could not be planned: ${messageOf(err)}`),
    );
  }

  const server = createServer((req, res) => {
    void handle(ctx, uiDir, req, res).catch((err: unknown) => {
      // Expected refusals and user errors are answered, not logged; a bug is logged with its stack.
      if (!(err instanceof HttpError) && !isOrchardError(err)) {
        log(`request failed: ${req.method ?? ''} ${pathOnly(req.url)}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
      sendError(res, err);
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => upgrade(ctx, req, socket, head));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket));
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: BIND_ADDRESS, port: o.port ?? 0, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the server has no TCP address');
  ctx.port = address.port;
  if (o.writeServerJson !== false) await writeServerInfo(o.home, { port: ctx.port, pid: process.pid, startedAt: new Date().toISOString() });

  let closing: Promise<void> | undefined;
  return {
    port: ctx.port,
    address: address.address,
    url: `http://${BIND_ADDRESS}:${ctx.port}/`,
    context: ctx,
    close: () =>
      (closing ??= (async () => {
        server.close();
        await ctx.jobs.close().catch(() => undefined);
        await supervisor.close().catch(() => undefined);
        await hub.close();
        for (const socket of sockets) socket.destroy();
        if (o.writeServerJson !== false) await removeServerInfo(o.home);
      })()),
  };
}

async function handle(ctx: ApiContext, uiDir: string | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = req.url ?? '/';
  // Origin-form only ("/path?query"): an absolute-form URL would let a client pick another host.
  if (!raw.startsWith('/')) throw new HttpError(400, 'BAD_REQUEST', 'request target must be a path');
  const url = new URL(raw, `http://${BIND_ADDRESS}:${ctx.port}`);
  const isApi = url.pathname === API_PREFIX || url.pathname.startsWith(`${API_PREFIX}/`);
  const isSession = url.pathname === SESSION_PATH;
  checkRequest(req.headers, { port: ctx.port, token: ctx.token, needsToken: isApi && !isSession, method: req.method ?? 'GET' });
  if (isSession) {
    await sessionExchange(ctx, req, res);
    return;
  }
  if (!isApi) {
    await serveUi(uiDir, req, res, url.pathname);
    return;
  }
  const { route, params } = findRoute(routes, req.method ?? 'GET', url.pathname);
  bindRoute(req, route.method, route.path);
  const abandoned = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abandoned.abort();
  });
  const result = await route.handler({ req, res, params, url, server: ctx, signal: abandoned.signal });
  if (result === ANSWERED) return;
  if (result instanceof WithStatus) sendJson(res, result.status, result.value);
  else sendJson(res, 200, result ?? { ok: true });
}

function upgrade(ctx: ApiContext, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  socket.on('error', () => socket.destroy());
  try {
    const raw = req.url ?? '';
    if (!raw.startsWith('/')) throw new HttpError(400, 'BAD_REQUEST', 'request target must be a path');
    const pathname = new URL(raw, `http://${BIND_ADDRESS}:${ctx.port}`).pathname;
    // Check first, then say whether the path exists: an unauthenticated client learns nothing.
    checkRequest(req.headers, { port: ctx.port, token: ctx.token, needsToken: true, websocket: true, method: 'GET' });
    if (pathname !== EVENTS_PATH)
      throw new HttpError(404, 'NOT_FOUND', `no WebSocket at ${pathname}`, `The event stream is ${EVENTS_PATH}.`);
  } catch (err) {
    const { status, body } = errorBody(err);
    const text = `${JSON.stringify(body)}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\nCache-Control: ` +
        `no-store\r\nConnection: close\r\n\r\n${text}`,
    );
    return;
  }
  ctx.hub.upgrade(req, socket, head);
}

/**
 * A request the HTTP parser refused: answer it (431 for oversized headers, else 400) before closing,
 * so the client learns why instead of seeing a reset connection.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status =
    err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'HPE_HEADERS_TIMEOUT' || err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const error =
    status === 431
      ? new HttpError(status, 'HEADERS_TOO_LARGE', 'the request headers are too large')
      : new HttpError(status, 'BAD_REQUEST', 'the request could not be parsed');
  const text = `${JSON.stringify(errorBody(error).body)}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(text)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${text}`,
  );
}

function chooseUiDir(o: ServerOptions, log: (line: string) => void): string | undefined {
  let dir: string;
  try {
    dir = path.resolve(o.uiDir ?? path.join(repoRoot(), 'ui', 'dist'));
  } catch {
    return undefined;
  }
  // Nothing under ORCHARD_HOME is ever served as a file.
  if (isInside(o.home.root, dir)) {
    log(`not serving the UI from ${dir}: it lies inside ORCHARD_HOME`);
    return undefined;
  }
  return existsSync(dir) ? dir : undefined;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot(), 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function pathOnly(url: string | undefined): string {
  return (url ?? '').split('?')[0] ?? '';
}
