import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveModel, type GatewayContext, type RequestNote } from './context.js';
import { GatewayError } from './gateway-error.js';
import { FOREVER, parseKeepAlive } from './keep-alive.js';
import type { GatewayModel } from './models.js';
import { clientGone, parseJsonObject, readAll, readBody, SseParser, upstream } from './upstream.js';

/**
 * The Ollama API (github.com/ollama/ollama docs/api.md) on top of the apps' OpenAI-compatible
 * services: same paths, field names, NDJSON streaming (on unless `"stream": false`), `keep_alive`,
 * `options`, `done_reason` and the timing fields in nanoseconds.
 */

/** The Ollama version whose API documentation this follows (GET /api/version). */
export const OLLAMA_API_VERSION = '0.5.0';

const NS_PER_MS = 1_000_000;

type Body = Record<string, unknown>;

export async function tags(ctx: GatewayContext): Promise<unknown> {
  const models = (await ctx.catalog.list()).filter((m) => m.kind === 'llm');
  return {
    models: models.map((m) => ({
      name: tagged(m.id),
      model: tagged(m.id),
      modified_at: m.modifiedAt,
      size: m.sizeBytes,
      digest: m.digest,
      details: details(m),
    })),
  };
}

export async function ps(ctx: GatewayContext): Promise<unknown> {
  const models = await ctx.catalog.list();
  const byId = new Map(models.map((m) => [m.id, m]));
  const now = Date.now();
  return {
    models: ctx.scheduler
      .list()
      .filter((l) => l.state === 'ready' && l.kind === 'llm')
      .flatMap((l) => {
        const m = byId.get(l.id);
        if (!m) return [];
        // Kept forever (or busy): Ollama reports a far-away expiry rather than none.
        const expires = l.expiresAt ?? now + 290 * 365 * 24 * 3600 * 1000;
        return [
          {
            name: tagged(m.id),
            model: tagged(m.id),
            size: l.predictedBytes,
            digest: m.digest,
            details: details(m),
            expires_at: new Date(expires).toISOString(),
            size_vram: m.prediction?.gpu ?? 0,
          },
        ];
      }),
  };
}

export async function show(ctx: GatewayContext, req: IncomingMessage): Promise<unknown> {
  const body = parseJsonObject(await readBody(req));
  const { model } = await resolveModel(ctx, body['model'] ?? body['name'], 'llm');
  const contextSize = model.details.contextSize;
  return {
    modelfile: `# Served by Orchard from the app ${model.id}\nFROM ${model.file ?? model.id}\n`,
    parameters: contextSize !== undefined ? `num_ctx                        ${contextSize}` : '',
    template: model.chatTemplate ?? '',
    details: details(model),
    model_info: { ...model.info, 'general.parameter_count': Number(model.info['general.parameter_count'] ?? 0) || undefined },
    capabilities: ['completion', 'embedding'],
    modified_at: model.modifiedAt,
  };
}

function tagged(id: string): string {
  return `${id}:latest`;
}

function details(m: GatewayModel): Record<string, unknown> {
  return {
    parent_model: '',
    format: m.details.format,
    family: m.details.family,
    families: [m.details.family],
    parameter_size: m.details.parameterSize,
    quantization_level: m.details.quantization,
  };
}

/**
 * Ollama's `options` mapped onto the service's OpenAI fields. Options the service has no knob for
 * are ignored, as Ollama ignores unknown ones.
 */
function sampling(body: Body): Record<string, unknown> {
  const options = body['options'];
  if (options !== undefined && (typeof options !== 'object' || options === null || Array.isArray(options)))
    throw new GatewayError(400, 'options must be an object');
  const o = (options ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const num = (key: string): number | undefined => {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new GatewayError(400, `options.${key} must be a number`);
    return v;
  };
  const temperature = num('temperature');
  if (temperature !== undefined) out['temperature'] = temperature;
  const topP = num('top_p');
  if (topP !== undefined) out['top_p'] = topP;
  const seed = num('seed');
  if (seed !== undefined) out['seed'] = Math.trunc(seed);
  // num_predict: -1 is "until done", -2 "until the context is full": both mean no limit here.
  const numPredict = num('num_predict');
  if (numPredict !== undefined && numPredict > 0) out['max_tokens'] = Math.trunc(numPredict);
  const stop = o['stop'];
  if (typeof stop === 'string') out['stop'] = [stop];
  else if (Array.isArray(stop)) out['stop'] = stop.filter((s): s is string => typeof s === 'string').slice(0, 4);
  const format = body['format'];
  if (format === 'json') out['response_format'] = { type: 'json_object' };
  else if (typeof format === 'object' && format !== null)
    out['response_format'] = { type: 'json_schema', json_schema: { name: 'format', schema: format } };
  else if (format !== undefined && format !== null && format !== '') throw new GatewayError(400, 'format must be "json" or a JSON schema');
  return out;
}

function streamFlag(body: Body): boolean {
  return body['stream'] !== false;
}

function keepAliveOf(body: Body): number | undefined {
  return body['keep_alive'] === undefined || body['keep_alive'] === null ? undefined : parseKeepAlive(body['keep_alive']);
}

interface Generation {
  /** `message` objects for /api/chat, `response` strings for /api/generate. */
  piece(text: string): Record<string, unknown>;
  last(text: string): Record<string, unknown>;
}

/** POST /api/chat */
export async function chat(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, note: RequestNote): Promise<void> {
  const body = parseJsonObject(await readBody(req));
  const messages = body['messages'];
  if (messages !== undefined && messages !== null && !Array.isArray(messages)) throw new GatewayError(400, 'messages must be an array');
  const list = (messages ?? []) as unknown[];
  const flavour: Generation = {
    piece: (text) => ({ message: { role: 'assistant', content: text } }),
    last: (text) => ({ message: { role: 'assistant', content: text } }),
  };
  if (list.length === 0) return loadOrUnload(ctx, body, res, note, flavour);
  const openAiMessages = list.map((m, i) => {
    if (typeof m !== 'object' || m === null) throw new GatewayError(400, `messages[${i}] must be an object`);
    const { role, content } = m as { role?: unknown; content?: unknown };
    if (typeof content !== 'string') throw new GatewayError(400, `messages[${i}].content must be a string`);
    // The service knows system, user and assistant; a tool result is passed as what the user says.
    const r = role === 'system' || role === 'assistant' || role === 'user' ? role : role === 'tool' ? 'user' : undefined;
    if (!r) throw new GatewayError(400, `messages[${i}].role must be system, user, assistant or tool`);
    return { role: r, content };
  });
  await generate(
    ctx,
    body,
    res,
    note,
    '/v1/chat/completions',
    { messages: openAiMessages },
    flavour,
    (e) => e.choices?.[0]?.delta?.content,
  );
}

/** POST /api/generate */
export async function generateRoute(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, note: RequestNote): Promise<void> {
  const body = parseJsonObject(await readBody(req));
  const prompt = body['prompt'];
  if (prompt !== undefined && prompt !== null && typeof prompt !== 'string') throw new GatewayError(400, 'prompt must be a string');
  const flavour: Generation = { piece: (text) => ({ response: text }), last: (text) => ({ response: text }) };
  if (!prompt) return loadOrUnload(ctx, body, res, note, flavour);
  const system = typeof body['system'] === 'string' ? body['system'] : undefined;
  if (body['raw'] === true) {
    await generate(ctx, body, res, note, '/v1/completions', { prompt }, flavour, (e) => e.choices?.[0]?.text);
    return;
  }
  const messages = [...(system ? [{ role: 'system', content: system }] : []), { role: 'user', content: prompt }];
  await generate(ctx, body, res, note, '/v1/chat/completions', { messages }, flavour, (e) => e.choices?.[0]?.delta?.content);
}

interface StreamEvent {
  choices?: { delta?: { content?: string }; text?: string; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

async function generate(
  ctx: GatewayContext,
  body: Body,
  res: ServerResponse,
  note: RequestNote,
  path: string,
  input: Record<string, unknown>,
  flavour: Generation,
  textOf: (e: StreamEvent) => string | undefined,
): Promise<void> {
  const started = process.hrtime.bigint();
  const name = String(body['model'] ?? '');
  const { model, known } = await resolveModel(ctx, body['model'], 'llm');
  note.model = model.id;
  const keepAlive = keepAliveOf(body);
  const upstreamBody = Buffer.from(JSON.stringify({ ...input, ...sampling(body), stream: true, stream_options: { include_usage: true } }));
  const signal = clientGone(res);
  const wasLoaded = ctx.scheduler.isLoaded(model.id);
  const lease = await ctx.scheduler.acquire(model, { signal, known, ...(keepAlive !== undefined ? { keepAliveMs: keepAlive } : {}) });
  note.queuePosition = lease.queuePosition;
  note.loadMs = lease.loadMs;
  const stream = streamFlag(body);
  const sentAt = process.hrtime.bigint();
  let firstAt: bigint | undefined;
  let firstTokenMs: number | undefined;
  let text = '';
  let finish = 'stop';
  let usage: StreamEvent['usage'];
  try {
    const answer = await upstream(lease.port, 'POST', path, upstreamBody, signal);
    if ((answer.statusCode ?? 500) >= 400) {
      const raw = (await readAll(answer)).toString('utf8');
      let message = raw;
      try {
        message = (JSON.parse(raw) as { error?: { message?: string } }).error?.message ?? raw;
      } catch {
        // not JSON: the text itself
      }
      throw new GatewayError(answer.statusCode ?? 500, message);
    }
    if (stream) {
      res.writeHead(200, {
        'content-type': 'application/x-ndjson',
        'x-orchard-model': model.id,
        'x-orchard-queue-position': String(lease.queuePosition),
      });
      res.flushHeaders();
    }
    const parser = new SseParser((value) => {
      const e = value as StreamEvent;
      const piece = textOf(e);
      if (piece) {
        if (firstAt === undefined) {
          firstAt = process.hrtime.bigint();
          firstTokenMs = Date.now();
        }
        if (stream)
          res.write(`${JSON.stringify({ model: name, created_at: new Date().toISOString(), ...flavour.piece(piece), done: false })}\n`);
        else text += piece;
      }
      const reason = e.choices?.[0]?.finish_reason;
      if (reason) finish = reason === 'length' ? 'length' : 'stop';
      if (e.usage) usage = e.usage;
    });
    answer.setEncoding('utf8');
    for await (const chunk of answer as AsyncIterable<string>) parser.push(chunk);
    const ended = process.hrtime.bigint();
    const first = firstAt ?? ended;
    const final = {
      model: name,
      created_at: new Date().toISOString(),
      ...flavour.last(stream ? '' : text),
      done_reason: finish,
      done: true,
      total_duration: Number(ended - started),
      load_duration: wasLoaded ? 0 : lease.loadMs * NS_PER_MS,
      prompt_eval_count: usage?.prompt_tokens ?? 0,
      prompt_eval_duration: Number(first - sentAt),
      eval_count: usage?.completion_tokens ?? 0,
      eval_duration: Number(ended - first),
    };
    note.tokens = final.eval_count;
    if (stream) res.end(`${JSON.stringify(final)}\n`);
    else sendJson(res, 200, final);
  } finally {
    lease.release({
      ...(note.tokens !== undefined ? { completionTokens: note.tokens } : {}),
      ...(firstTokenMs !== undefined ? { firstTokenAt: firstTokenMs } : {}),
      endedAt: Date.now(),
    });
  }
}

/** An empty prompt or message list: load the model (done_reason "load"), or with keep_alive 0 unload it ("unload"). */
async function loadOrUnload(ctx: GatewayContext, body: Body, res: ServerResponse, note: RequestNote, flavour: Generation): Promise<void> {
  const name = String(body['model'] ?? '');
  const { model, known } = await resolveModel(ctx, body['model'], 'llm');
  note.model = model.id;
  const keepAlive = keepAliveOf(body);
  if (keepAlive !== undefined && keepAlive <= 0 && keepAlive !== FOREVER) {
    await ctx.scheduler.unload(model.id, 'keep_alive 0');
    sendJson(res, 200, { model: name, created_at: new Date().toISOString(), ...flavour.last(''), done_reason: 'unload', done: true });
    return;
  }
  const lease = await ctx.scheduler.acquire(model, {
    signal: clientGone(res),
    known,
    ...(keepAlive !== undefined ? { keepAliveMs: keepAlive } : {}),
  });
  lease.release();
  note.loadMs = lease.loadMs;
  sendJson(res, 200, { model: name, created_at: new Date().toISOString(), ...flavour.last(''), done_reason: 'load', done: true });
}

/** POST /api/embed: `input` (a string or strings) → normalised `embeddings`, as Ollama returns them. */
export async function embed(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  note: RequestNote,
  legacy = false,
): Promise<void> {
  const started = process.hrtime.bigint();
  const body = parseJsonObject(await readBody(req));
  const input = legacy ? body['prompt'] : body['input'];
  const texts =
    typeof input === 'string'
      ? [input]
      : Array.isArray(input) && input.every((x) => typeof x === 'string')
        ? (input as string[])
        : undefined;
  if (!texts || texts.length === 0)
    throw new GatewayError(400, legacy ? 'prompt must be a string' : 'input must be a string or an array of strings');
  const dimensions = body['dimensions'];
  if (dimensions !== undefined && (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1))
    throw new GatewayError(400, 'dimensions must be a positive integer');
  const { model, known } = await resolveModel(ctx, body['model'], 'llm');
  note.model = model.id;
  const keepAlive = keepAliveOf(body);
  const signal = clientGone(res);
  const wasLoaded = ctx.scheduler.isLoaded(model.id);
  const lease = await ctx.scheduler.acquire(model, { signal, known, ...(keepAlive !== undefined ? { keepAliveMs: keepAlive } : {}) });
  note.loadMs = lease.loadMs;
  try {
    const answer = await upstream(lease.port, 'POST', '/v1/embeddings', Buffer.from(JSON.stringify({ input: texts })), signal);
    const raw = JSON.parse((await readAll(answer)).toString('utf8')) as {
      data?: { embedding: number[] }[];
      usage?: { prompt_tokens?: number };
      error?: { message?: string };
    };
    if ((answer.statusCode ?? 500) >= 400 || !raw.data)
      throw new GatewayError(answer.statusCode ?? 500, raw.error?.message ?? 'the embedding failed');
    if (legacy) {
      sendJson(res, 200, { embedding: raw.data[0]?.embedding ?? [] });
      return;
    }
    const embeddings = raw.data.map((d) => normalise(typeof dimensions === 'number' ? d.embedding.slice(0, dimensions) : d.embedding));
    sendJson(res, 200, {
      model: String(body['model']),
      embeddings,
      total_duration: Number(process.hrtime.bigint() - started),
      load_duration: wasLoaded ? 0 : lease.loadMs * NS_PER_MS,
      prompt_eval_count: raw.usage?.prompt_tokens ?? 0,
    });
  } finally {
    lease.release();
  }
}

function normalise(v: number[]): number[] {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm > 0 ? v.map((x) => x / norm) : v;
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Ollama's error shape: `{"error": "message"}`; mid-stream, one last NDJSON line. */
export function sendOllamaError(res: ServerResponse, err: GatewayError): void {
  if (res.headersSent) {
    res.end(`${JSON.stringify({ error: err.message })}\n`);
    return;
  }
  sendJson(res, err.status, { error: err.message });
}
