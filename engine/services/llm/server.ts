import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { ApiError, sendError, sendJson } from './api-error.js';
import { handleEmbeddings } from './embeddings.js';
import { handleChat, handleCompletion } from './generation.js';
import type { ServiceState } from './service-state.js';

const MAX_BODY = 16 * 1024 * 1024;

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

async function route(state: ServiceState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const p = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  const want = (m: string) => {
    if (method !== m) throw new ApiError(405, `${p} accepts ${m}, not ${method}.`, 'invalid_request_error', null, 'method_not_allowed');
  };
  switch (p) {
    case '/health':
      want('GET');
      return sendJson(res, 200, health(state));
    case '/metrics':
      want('GET');
      return sendJson(res, 200, state.metrics.snapshot({ active: state.pool.active, queueDepth: state.pool.queueDepth, parallel: state.parallel }));
    case '/v1/models':
      want('GET');
      return sendJson(res, 200, { object: 'list', data: [modelEntry(state)] });
    case `/v1/models/${state.modelId}`:
      want('GET');
      return sendJson(res, 200, modelEntry(state));
    case '/v1/chat/completions':
      want('POST');
      state.metrics.request('chat');
      return handleChat(state, req, res, await readJson(req));
    case '/v1/completions':
      want('POST');
      state.metrics.request('completions');
      return handleCompletion(state, req, res, await readJson(req));
    case '/v1/embeddings':
      want('POST');
      state.metrics.request('embeddings');
      return handleEmbeddings(state, res, await readJson(req));
    default:
      throw new ApiError(404, `Unknown path ${p}.`, 'not_found_error', null, 'unknown_url');
  }
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

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = String(req.headers['content-type'] ?? '');
  if (type && !type.includes('json')) throw new ApiError(415, `Send the body as application/json, not ${type}.`, 'invalid_request_error', null, 'unsupported_media_type');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ApiError(413, `The request body is larger than ${MAX_BODY} bytes.`, 'invalid_request_error', null, 'body_too_large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new ApiError(400, `The body is not valid JSON: ${(err as Error).message}`, 'invalid_request_error', null, 'invalid_json');
  }
}
