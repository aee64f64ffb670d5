import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { OrchardError, isOrchardError, messageOf } from '../../core/errors.js';
import { findRoute, readJson, sendJson } from '../../core/http-kit.js';
import { contractChecker } from '../../core/json-contract.js';
import { REQUEST_SCHEMAS, type JobApiError, type JobApiRouteKey } from './contract.js';
import type { JobKind, JobRequest, JobSnapshot } from './diffusion-engine.js';
import type { ServiceMedia } from './sd-args.js';
import type { SdCppEngine } from './sd-cpp-engine.js';

const MAX_BODY_BYTES = 64 * 1024 * 1024;
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
const checkBody = contractChecker(REQUEST_SCHEMAS);

/**
 * Orchard's job API for image and video services, on 127.0.0.1 only:
 *   GET /health, POST /v1/jobs, GET /v1/jobs, GET /v1/jobs/:id, GET /v1/jobs/:id/events (SSE),
 *   POST /v1/jobs/:id/cancel, GET /v1/jobs/:id/result.
 */
export function createJobApi(engine: SdCppEngine, media: ServiceMedia): http.Server {
  return http.createServer((req, res) => {
    handle(engine, media, req, res).catch((err: unknown) => sendError(res, err));
  });
}

class NoRoute extends Error {}

type Handler = (c: {
  engine: SdCppEngine;
  media: ServiceMedia;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  id: string;
}) => Promise<void> | void;

/** A handler for /v1/jobs/:id/...: the job, or 404 when there is none. */
const withJob =
  (fn: (c: Parameters<Handler>[0], job: JobSnapshot) => Promise<void> | void): Handler =>
  (c) => {
    const job = c.engine.job(c.id);
    if (!job) return sendJson(c.res, 404, errorBody('USAGE', `no job ${c.id}`, 'List jobs with GET /v1/jobs.'));
    return fn(c, job);
  };

/** The routes of the contract (contract.ts), as test/diffusion/contract.test.ts checks. */
export const ROUTES: { method: string; path: string; handler: Handler }[] = [
  {
    method: 'GET',
    path: '/health',
    handler: ({ engine, media, res }) => {
      const health = engine.health();
      const status = health.status === 'ready' ? 'ok' : health.status;
      sendJson(res, health.status === 'ready' ? 200 : 503, { ...health, status, media });
    },
  },
  {
    method: 'POST',
    path: '/v1/jobs',
    handler: async ({ engine, media, req, res }) => {
      const request = parseJobRequest(await readBody(req, 'POST /v1/jobs'), media);
      try {
        sendJson(res, 202, engine.submit(request));
      } catch (err) {
        if (isOrchardError(err) && /queue is full/.test(err.message)) return sendJson(res, 429, errorBody(err.code, err.message, err.hint));
        throw err;
      }
    },
  },
  { method: 'GET', path: '/v1/jobs', handler: ({ engine, res }) => sendJson(res, 200, { jobs: engine.jobsList() }) },
  { method: 'GET', path: '/v1/jobs/:id', handler: withJob(({ res }, job) => sendJson(res, 200, job)) },
  {
    method: 'POST',
    path: '/v1/jobs/:id/cancel',
    handler: withJob(async ({ engine, res, id }) => sendJson(res, 200, await engine.cancel(id))),
  },
  { method: 'GET', path: '/v1/jobs/:id/events', handler: withJob(({ engine, req, res }, job) => streamEvents(engine, job, req, res)) },
  { method: 'GET', path: '/v1/jobs/:id/result', handler: withJob(sendResult) },
];

async function handle(engine: SdCppEngine, media: ServiceMedia, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const method = req.method ?? 'GET';
  const noRoute = () => new NoRoute();
  let found: { route: (typeof ROUTES)[number]; params: Record<string, string> };
  try {
    found = findRoute(ROUTES, method, url.pathname, { notFound: noRoute, notAllowed: noRoute });
  } catch {
    return sendJson(res, 404, errorBody('USAGE', `no route ${method} ${url.pathname}`));
  }
  return found.route.handler({ engine, media, req, res, id: found.params['id'] ?? '' });
}

async function sendResult({ engine, res, id }: Parameters<Handler>[0], job: JobSnapshot): Promise<void> {
  const result = engine.result(id);
  if (!result) {
    return sendJson(
      res,
      409,
      errorBody(
        'SERVICE',
        `job ${id} has no result (state: ${job.state})`,
        job.state === 'failed' ? job.error?.message : 'Wait until the job is completed.',
      ),
    );
  }
  // Results live on disk only (outputs/), never in the service's memory.
  const headers = (size: number) => ({
    'content-type': result.mimeType,
    'content-length': String(size),
    'content-disposition': `inline; filename="${id}.${result.extension}"`,
  });
  const file = result.file;
  const size = await stat(file).then(
    (s) => s.size,
    () => undefined,
  );
  if (size === undefined)
    return sendJson(
      res,
      410,
      errorBody(
        'SERVICE',
        `the result of job ${id} was saved as ${file}, which no longer exists`,
        'It was moved or deleted; run the job again.',
      ),
    );
  res.writeHead(200, headers(size));
  await pipeline(createReadStream(file), res).catch(() => res.destroy());
}

/** Server-sent events: the current snapshot first, then every change, until the job ends. */
function streamEvents(engine: SdCppEngine, job: JobSnapshot, req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const write = (event: string, snapshot: JobSnapshot): void => {
    res.write(`event: ${event}\ndata: ${JSON.stringify(snapshot)}\n\n`);
  };
  write('state', job);
  if (TERMINAL.has(job.state)) {
    res.end();
    return;
  }
  const unsubscribe = engine.onEvent((event) => {
    if (event.job.id !== job.id) return;
    write(event.type, event.job);
    if (event.type === 'state' && TERMINAL.has(event.job.state)) {
      unsubscribe();
      res.end();
    }
  });
  req.on('close', unsubscribe);
}

function parseJobRequest(value: unknown, media: ServiceMedia): JobRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OrchardError('USAGE', 'the job must be a JSON object');
  const body = value as Record<string, unknown>;
  const str = (key: string): string | undefined => {
    const v = body[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new OrchardError('USAGE', `"${key}" must be a string`, { where: `/${key}` });
    return v;
  };
  const num = (key: string, min: number, max: number): number | undefined => {
    const v = body[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw new OrchardError('USAGE', `"${key}" must be a number from ${min} to ${max}`, { where: `/${key}` });
    }
    return v;
  };
  const prompt = str('prompt');
  if (!prompt || prompt.trim() === '') throw new OrchardError('USAGE', '"prompt" is required', { where: '/prompt' });
  const initImage = str('init_image') ?? str('initImage');
  const kinds: JobKind[] = media === 'image' ? ['text-to-image'] : ['text-to-video', 'image-to-video'];
  const kind = (str('kind') ?? (media === 'image' ? 'text-to-image' : initImage ? 'image-to-video' : 'text-to-video')) as JobKind;
  if (!kinds.includes(kind)) {
    throw new OrchardError('USAGE', `this ${media} service does not run "${kind}" jobs`, {
      where: '/kind',
      hint: `Use one of: ${kinds.join(', ')}.`,
    });
  }
  if (kind === 'image-to-video' && !initImage)
    throw new OrchardError('USAGE', 'image-to-video needs "init_image" (base64 or a data URL)', { where: '/init_image' });
  const request: JobRequest = { kind, prompt };
  const negative = str('negative') ?? str('negative_prompt');
  if (negative !== undefined) request.negative = negative;
  const fields: [keyof JobRequest, string, number, number][] = [
    ['width', 'width', 64, 4096],
    ['height', 'height', 64, 4096],
    ['steps', 'steps', 1, 500],
    ['seed', 'seed', -1, Number.MAX_SAFE_INTEGER],
    ['cfg', 'cfg', 0, 100],
    ['frames', 'frames', 1, 1025],
    ['fps', 'fps', 1, 120],
  ];
  for (const [field, key, min, max] of fields) {
    const v = num(key, min, max);
    if (v !== undefined) (request as unknown as Record<string, number>)[field] = v;
  }
  // sd.cpp takes raw base64: a data URL (what a browser's FileReader gives) loses its prefix here.
  if (initImage !== undefined) request.initImage = initImage.replace(/^data:[^;,]*;base64,/, '');
  return request;
}

/** The JSON body, checked against the route's schema in the contract before the job is queued. */
async function readBody(req: http.IncomingMessage, key: JobApiRouteKey): Promise<unknown> {
  const body = await readJson(req, {
    maxBytes: MAX_BODY_BYTES,
    tooLarge: () => new OrchardError('USAGE', 'the request body is too large'),
    badJson: (detail) => new OrchardError('USAGE', `the body is not valid JSON: ${detail}`),
  });
  const problem = checkBody(key, body);
  if (problem) {
    const at = problem.pointer ? `"${problem.pointer.slice(1)}"` : 'the job';
    throw new OrchardError('USAGE', `${at} ${problem.message}`, {
      where: problem.pointer || '/',
      hint: `See ${key} in engine/services/diffusion/contract.ts.`,
    });
  }
  return body;
}

function errorBody(code: string, message: string, hint?: string, where?: string): JobApiError {
  return { error: { code, message, ...(hint ? { hint } : {}), ...(where ? { where } : {}) } };
}

function sendError(res: http.ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  if (isOrchardError(err)) {
    sendJson(res, err.code === 'USAGE' ? 400 : 500, errorBody(err.code, err.message, err.hint, err.where));
    return;
  }
  sendJson(res, 500, errorBody('SERVICE', messageOf(err)));
}
