import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { OrchardError } from '../../core/errors.js';
import { probeMlx } from '../../diagnose/probes/index.js';
import type { Verdict } from '../../diagnose/verdict.js';
import { allocatePort } from '../../core/port.js';
import { ApiError, sendError, sendJson } from '../../openai/api-error.js';
import { ServiceMetrics } from '../../openai/metrics.js';
import { listAdapters, type AdapterEntry } from './adapters.js';
import { MlxUpstream } from './mlx-upstream.js';
import { SseTokenCounter } from './sse-tokens.js';

export interface MlxServiceOptions {
  /** The app venv's python (mlx and mlx-lm installed in it). */
  python: string;
  /** A model folder (config.json, *.safetensors, tokenizer) or a Hugging Face repo id. */
  model: string;
  /** The name clients use in "model"; default: the folder's name. */
  modelId?: string;
  /** A folder of trained adapters: each sub-folder becomes the model `<modelId>:<folder>`. */
  adaptersDir?: string;
  /** One adapter served under the base name itself. */
  adapterPath?: string;
  port: number;
  host: string;
  maxTokens?: number;
  /** Seconds to wait for the model to load (the warm-up request). */
  readyTimeoutMs: number;
  /** Extra mlx_lm.server arguments, passed as they are. */
  serverArgs: string[];
}

const MAX_BODY = 8 * 1024 * 1024;

interface State {
  o: MlxServiceOptions;
  modelId: string;
  upstreamPort: number;
  upstream: MlxUpstream;
  metrics: ServiceMetrics;
  verdict: Verdict | undefined;
  status: 'loading' | 'ok' | 'failed';
  error?: string;
  active: number;
}

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/**
 * Orchard's MLX LLM service: runs `python -m mlx_lm server` on a private loopback port and serves
 * the same contract as the GGUF service in front of it (DESIGN §6): /health with the backend,
 * /metrics with tokens/s measured from the responses, /v1/models naming the model (and every
 * trained adapter) by Orchard's names, and the OpenAI routes, with "model" mapped to what
 * mlx_lm.server understands so it never tries to fetch an unknown name from the hub.
 */
export async function runMlxServiceProcess(o: MlxServiceOptions): Promise<void> {
  if (o.host !== '127.0.0.1' && o.host !== 'localhost' && o.host !== '::1') {
    throw new OrchardError('USAGE', `the MLX service only listens on the loopback interface, not ${o.host}`, {
      hint: 'Use --host 127.0.0.1 (the default).',
    });
  }
  const modelId = o.modelId ?? path.basename(o.model.replace(/\/+$/, ''));
  const env = { ...process.env };
  // The proof first: the same python, the same MLX, asked which device it computes on.
  const verdict = await probeMlx('metal', { env: stringEnv(env), timeoutMs: 120_000, python: o.python }).catch(() => undefined);
  if (verdict) log(`orchard mlx probe: backend=${verdict.backend} fallback=${verdict.fallback} ${verdict.evidence.slice(1, 3).join('; ')}`);

  const upstreamPort = await allocatePort();
  const args = ['--model', o.model, '--host', '127.0.0.1', '--port', String(upstreamPort)];
  if (o.maxTokens !== undefined) args.push('--max-tokens', String(o.maxTokens));
  args.push(...o.serverArgs);
  const upstream = new MlxUpstream({ python: o.python, args, port: upstreamPort, env, onLine: log });
  const state: State = { o, modelId, upstreamPort, upstream, metrics: new ServiceMetrics(), verdict, status: 'loading', active: 0 };

  const server = http.createServer((req, res) => {
    route(state, req, res).catch((err: unknown) => sendError(res, err));
  });
  server.listen(o.port, o.host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => {
      throw new OrchardError('SERVICE', `cannot listen on ${o.host}:${o.port}: ${(err as Error).message}`, {
        hint: 'Pick another --port.',
      });
    }),
  ]);
  const port = (server.address() as AddressInfo).port;

  let stopping = false;
  const stop = async (code: number): Promise<never> => {
    stopping = true;
    server.closeAllConnections();
    server.close();
    await upstream.stop();
    process.exit(code);
  };
  process.once('SIGTERM', () => void stop(0));
  process.once('SIGINT', () => void stop(0));
  void upstream.exited.then((exit) => {
    if (stopping) return;
    state.status = 'failed';
    process.stderr.write(`${upstream.failure(exit, 'while serving').message}\n`);
    void stop(1);
  });

  try {
    await upstream.waitListening(Math.min(o.readyTimeoutMs, 120_000));
    // mlx_lm.server answers HTTP before its generation thread has loaded the model; one token of
    // warm-up is the honest readiness: the model is in memory and has run once.
    const started = Date.now();
    await warmUp(state, o.readyTimeoutMs);
    state.status = 'ok';
    log(
      `orchard mlx ready: backend=${verdict?.backend ?? 'unknown'} model=${modelId} loaded in ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s ` +
        `adapters=${listAdapters(o.adaptersDir, modelId).length} url=http://${o.host}:${port}`,
    );
  } catch (err) {
    state.status = 'failed';
    state.error = (err as Error).message;
    throw err;
  }
}

async function warmUp(state: State, timeoutMs: number): Promise<void> {
  const body = JSON.stringify({ model: 'default_model', prompt: 'Hello', max_tokens: 1, ...adapterField(state, undefined) });
  const res = await fetch(`http://127.0.0.1:${state.upstreamPort}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), abortOnExit(state.upstream)]),
  }).catch((err: unknown) => {
    if (state.upstream.hasExited)
      throw new OrchardError('SERVICE', 'mlx_lm.server exited while loading the model', {
        hint: `Its last lines: ${state.upstream.logTail().slice(-5).join(' | ')}`,
      });
    throw new OrchardError('SERVICE', `the model did not load within ${Math.round(timeoutMs / 1000)} s: ${(err as Error).message}`, {
      hint: 'Large models take minutes to read from disk the first time; raise the readiness timeout.',
    });
  });
  const text = await res.text();
  if (!res.ok)
    throw new OrchardError('SERVICE', `mlx_lm.server could not load the model: ${res.status} ${text.slice(0, 300)}`, {
      where: state.o.model,
      hint: 'Check the model folder (config.json, *.safetensors, tokenizer files).',
    });
}

function abortOnExit(upstream: MlxUpstream): AbortSignal {
  const c = new AbortController();
  void upstream.exited.then(() => c.abort(new Error('mlx_lm.server exited')));
  return c.signal;
}

async function route(state: State, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const p = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  const want = (m: string): void => {
    if (method !== m) throw new ApiError(405, `${p} accepts ${m}, not ${method}.`, 'invalid_request_error', null, 'method_not_allowed');
  };
  const ready = (): void => {
    if (state.status !== 'ok')
      throw new ApiError(
        503,
        state.status === 'failed' ? `The MLX model failed to load: ${state.error ?? 'see the logs'}` : 'The MLX model is still loading.',
        'service_unavailable',
        null,
        'loading',
      );
  };
  if (p === '/health') {
    want('GET');
    return sendJson(res, state.status === 'ok' ? 200 : 503, health(state));
  }
  if (p === '/metrics') {
    want('GET');
    return sendJson(res, 200, { engine: 'mlx', ...state.metrics.snapshot({ active: state.active, queueDepth: 0, parallel: 1 }) });
  }
  if (p === '/v1/models') {
    want('GET');
    ready();
    return sendJson(res, 200, { object: 'list', data: models(state).map(modelEntry) });
  }
  if (p.startsWith('/v1/models/')) {
    want('GET');
    ready();
    const id = decodeURIComponent(p.slice('/v1/models/'.length));
    const found = models(state).find((m) => m.id === id);
    if (!found) throw new ApiError(404, `The model '${id}' does not exist.`, 'not_found_error', 'model', 'model_not_found');
    return sendJson(res, 200, modelEntry(found));
  }
  if (p === '/v1/chat/completions' || p === '/v1/completions') {
    want('POST');
    ready();
    state.metrics.request(p === '/v1/completions' ? 'completions' : 'chat');
    return forward(state, p, await readJson(req), req, res);
  }
  if (p === '/v1/embeddings') {
    throw new ApiError(
      404,
      'mlx_lm.server has no embeddings endpoint; use a GGUF model of this family for embeddings.',
      'not_found_error',
      null,
      'unsupported_endpoint',
    );
  }
  throw new ApiError(404, `Unknown path ${p}.`, 'not_found_error', null, 'unknown_url');
}

interface ModelChoice {
  id: string;
  created: number;
  adapter?: AdapterEntry;
}

function models(state: State): ModelChoice[] {
  return [
    { id: state.modelId, created: 0 },
    ...listAdapters(state.o.adaptersDir, state.modelId).map((a) => ({ id: a.id, created: a.created, adapter: a })),
  ];
}

function modelEntry(m: ModelChoice) {
  return { id: m.id, object: 'model', created: m.created, owned_by: 'orchard', ...(m.adapter ? { adapter: m.adapter.name } : {}) };
}

function health(state: State) {
  return {
    status: state.status,
    engine: 'mlx',
    model: state.modelId,
    backend: state.verdict?.backend ?? 'unknown',
    ...(state.verdict ? { verdict: state.verdict } : {}),
    ...(state.error ? { error: state.error } : {}),
    adapters: listAdapters(state.o.adaptersDir, state.modelId).map((a) => a.id),
    upstream: { pid: state.upstream.pid ?? null },
    memory: { rssBytes: process.memoryUsage().rss },
  };
}

/**
 * What mlx_lm.server must receive for a model name. "default_model" is its --model. An adapter goes
 * in the request's own "adapters" field with the model's real path as "model": in mlx-lm 0.31.3,
 * `--adapter-path` is ignored at start-up (ModelProvider.load maps the model name before it looks up
 * the adapter; fixed after the release in ml-explore/mlx-lm#1249), and after that fix a request for
 * "default_model" takes the CLI adapter over the request's. The real path works in both.
 */
function adapterField(state: State, adapter: AdapterEntry | undefined): { model?: string; adapters?: string } {
  const dir = adapter?.dir ?? state.o.adapterPath;
  return dir ? { model: state.o.model, adapters: dir } : {};
}

async function forward(state: State, p: string, body: unknown, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new ApiError(400, 'The body must be a JSON object.', 'invalid_request_error', null, 'invalid_body');
  const request = { ...(body as Record<string, unknown>) };
  const name = typeof request['model'] === 'string' ? request['model'] : state.modelId;
  const choice = models(state).find((m) => m.id === name) ?? (name === 'default_model' ? models(state)[0] : undefined);
  if (!choice) {
    throw new ApiError(
      404,
      `The model '${name}' does not exist here; this service serves ${models(state)
        .map((m) => `'${m.id}'`)
        .join(', ')}.`,
      'not_found_error',
      'model',
      'model_not_found',
    );
  }
  request['model'] = 'default_model';
  Object.assign(request, adapterField(state, choice.adapter));
  const stream = request['stream'] === true;
  const payload = Buffer.from(JSON.stringify(request));
  const started = Date.now();
  state.active++;
  try {
    await new Promise<void>((resolve, reject) => {
      const up = http.request(
        {
          host: '127.0.0.1',
          port: state.upstreamPort,
          method: 'POST',
          path: p,
          headers: { 'content-type': 'application/json', 'content-length': payload.length },
        },
        (upRes) => {
          const status = upRes.statusCode ?? 502;
          const type = String(upRes.headers['content-type'] ?? 'application/json');
          res.writeHead(status, { 'content-type': type, ...(stream ? { 'cache-control': 'no-cache' } : {}) });
          const counter = new SseTokenCounter(started);
          const chunks: Buffer[] = [];
          upRes.on('data', (chunk: Buffer) => {
            if (stream && status === 200) counter.push(chunk.toString('utf8'));
            else chunks.push(chunk);
            res.write(chunk);
          });
          upRes.on('end', () => {
            res.end();
            if (status === 200) record(state, stream ? counter.result() : fromUsage(Buffer.concat(chunks).toString('utf8'), started));
            else state.metrics.errors++;
            resolve();
          });
          upRes.on('error', reject);
        },
      );
      // A client that goes away stops the generation: mlx_lm.server ends it on the broken pipe.
      res.on('close', () => {
        if (!res.writableFinished) {
          state.metrics.cancelled++;
          up.destroy();
          resolve();
        }
      });
      req.on('error', () => up.destroy());
      up.on('error', (err) =>
        reject(new ApiError(502, `mlx_lm.server did not answer: ${err.message}`, 'server_error', null, 'upstream_error')),
      );
      up.end(payload);
    });
  } finally {
    state.active--;
  }
}

interface Measured {
  promptTokens: number;
  completionTokens: number;
  ttftMs: number | undefined;
  decodeMs: number;
}

function record(state: State, m: Measured | undefined): void {
  if (m) state.metrics.generation(m);
}

/** A non-streamed reply: its usage, timed from request to end (prefill included; no first-token time). */
function fromUsage(text: string, started: number): Measured | undefined {
  try {
    const usage = (JSON.parse(text) as { usage?: { prompt_tokens?: unknown; completion_tokens?: unknown } }).usage;
    if (typeof usage?.completion_tokens !== 'number') return undefined;
    return {
      promptTokens: typeof usage.prompt_tokens === 'number' ? usage.prompt_tokens : 0,
      completionTokens: usage.completion_tokens,
      ttftMs: undefined,
      decodeMs: Date.now() - started,
    };
  } catch {
    return undefined;
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = String(req.headers['content-type'] ?? '');
  if (type && !type.includes('json'))
    throw new ApiError(415, `Send the body as application/json, not ${type}.`, 'invalid_request_error', null, 'unsupported_media_type');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY)
      throw new ApiError(413, `The request body is larger than ${MAX_BODY} bytes.`, 'invalid_request_error', null, 'body_too_large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new ApiError(400, `The body is not valid JSON: ${(err as Error).message}`, 'invalid_request_error', null, 'invalid_json');
  }
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
