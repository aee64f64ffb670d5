import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { findRoute, readJson } from '../../core/http-kit.js';
import { contractChecker } from '../../core/json-contract.js';
import { ApiError, badRequest, sendError, sendJson } from '../../openai/api-error.js';
import { REQUEST_SCHEMAS, type LlmRouteKey } from './contract.js';
import { handleEmbeddings } from './embeddings.js';
import { handleChat, handleCompletion } from './generation.js';
import type { ServiceState } from './service-state.js';

const MAX_BODY = 16 * 1024 * 1024;
const checkBody = contractChecker(REQUEST_SCHEMAS);

/** The OpenAI-compatible HTTP API (DESIGN §6) over node's http module. */
export function createLlmServer(state: ServiceState): http.Server {
  return http.createServer((req, res) => {
    route(state, req, res).catch((err: unknown) => {
      if (!(err instanceof ApiError) || err.status >= 500) state.metrics.errors++;
      if (err instanceof ApiError && err.status === 499) return; // the client left while queued
      sendError(res, err);
    });
  });
}

type Handler = (state: ServiceState, req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => Promise<void> | void;

/**
 * The OpenAI routes (and the supervisor's /health and /metrics), matched by the shared toolkit; each
 * is a route of the contract (contract.ts), as test/llm/contract.test.ts checks.
 */
export const ROUTES: { method: string; path: string; handler: Handler }[] = [
  { method: 'GET', path: '/health', handler: (state, _req, res) => sendJson(res, 200, health(state)) },
  {
    method: 'GET',
    path: '/metrics',
    handler: (state, _req, res) =>
      sendJson(
        res,
        200,
        state.metrics.snapshot({ active: state.pool.active, queueDepth: state.pool.queueDepth, parallel: state.parallel }),
      ),
  },
  { method: 'GET', path: '/v1/models', handler: (state, _req, res) => sendJson(res, 200, { object: 'list', data: [modelEntry(state)] }) },
  {
    method: 'GET',
    path: '/v1/models/:model',
    handler: (state, _req, res, params) => {
      if (params['model'] !== state.modelId)
        throw new ApiError(
          404,
          `No model ${params['model']}; this service serves ${state.modelId}.`,
          'not_found_error',
          'model',
          'model_not_found',
        );
      sendJson(res, 200, modelEntry(state));
    },
  },
  {
    method: 'POST',
    path: '/v1/chat/completions',
    handler: async (state, req, res) => {
      state.metrics.request('chat');
      return handleChat(state, req, res, await readBody(req, 'POST /v1/chat/completions'));
    },
  },
  {
    method: 'POST',
    path: '/v1/completions',
    handler: async (state, req, res) => {
      state.metrics.request('completions');
      return handleCompletion(state, req, res, await readBody(req, 'POST /v1/completions'));
    },
  },
  {
    method: 'POST',
    path: '/v1/embeddings',
    handler: async (state, req, res) => {
      state.metrics.request('embeddings');
      return handleEmbeddings(state, res, await readBody(req, 'POST /v1/embeddings'));
    },
  },
];

async function route(state: ServiceState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const p = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  const { route: found, params } = findRoute(ROUTES, method, p, {
    notAllowed: (allowed) =>
      new ApiError(405, `${p} accepts ${allowed.join(', ')}, not ${method}.`, 'invalid_request_error', null, 'method_not_allowed'),
    notFound: () => new ApiError(404, `Unknown path ${p}.`, 'not_found_error', null, 'unknown_url'),
  });
  return found.handler(state, req, res, params);
}

function modelEntry(state: ServiceState) {
  return { id: state.modelId, object: 'model', created: Math.floor(Date.now() / 1000), owned_by: 'orchard' };
}

export function health(state: ServiceState) {
  const { llm } = state;
  return {
    status: 'ok',
    model: state.modelId,
    backend: llm.backend,
    devices: llm.devices,
    gpuLayers: llm.model.gpuLayers,
    totalLayers: llm.model.fileInsights.totalLayers,
    contextSize: llm.contextSize,
    parallel: state.parallel,
    memory: {
      rssBytes: process.memoryUsage().rss,
      rssBeforeModelBytes: llm.rssBeforeModel,
      model: llm.model.size,
      library: { modelRam: llm.model.fileInsights.modelSize, contextStateBytes: llm.context.stateSize },
    },
  };
}

/** The JSON body, checked against the route's schema in the contract before any generation. */
async function readBody(req: IncomingMessage, key: LlmRouteKey): Promise<unknown> {
  const type = String(req.headers['content-type'] ?? '');
  if (type && !type.includes('json'))
    throw new ApiError(415, `Send the body as application/json, not ${type}.`, 'invalid_request_error', null, 'unsupported_media_type');
  const body = await readJson(req, {
    maxBytes: MAX_BODY,
    tooLarge: (max) => new ApiError(413, `The request body is larger than ${max} bytes.`, 'invalid_request_error', null, 'body_too_large'),
    badJson: (detail) => new ApiError(400, `The body is not valid JSON: ${detail}`, 'invalid_request_error', null, 'invalid_json'),
  });
  const problem = checkBody(key, body);
  if (problem) {
    const where = problem.pointer ? `'${problem.pointer}'` : 'The request body';
    throw badRequest(`${where} ${problem.message} (see ${key} in the service's contract).`, problem.pointer || '/', 'invalid_type');
  }
  return body;
}
