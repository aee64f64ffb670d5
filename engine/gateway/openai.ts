import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveModel, type GatewayContext, type RequestNote } from './context.js';
import type { GatewayError } from './gateway-error.js';
import { parseKeepAlive } from './keep-alive.js';
import type { GatewayModel } from './models.js';
import { clientGone, parseJsonObject, readAll, readBody, upstream } from './upstream.js';

/** Response headers that stay between the gateway and the service. */
const DROP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);

/** GET /v1/models: every installed model, by app id and by alias (OpenAI's list shape). */
export async function listModels(ctx: GatewayContext): Promise<unknown> {
  const models = await ctx.catalog.list();
  const data = models.flatMap((m) => [m.id, ...m.aliases].map((id) => modelObject(m, id)));
  return { object: 'list', data };
}

export async function getModel(ctx: GatewayContext, id: string): Promise<unknown> {
  const { model } = await resolveModel(ctx, id, undefined);
  return modelObject(model, id);
}

function modelObject(m: GatewayModel, id: string): Record<string, unknown> {
  return { id, object: 'model', created: Math.floor(Date.parse(m.modifiedAt) / 1000) || 0, owned_by: 'orchard' };
}

/**
 * POST /v1/chat/completions, /v1/completions, /v1/embeddings: pick the model, wait for it (loading
 * it if needed), then pass the request and the answer through unchanged. A stream goes out chunk by
 * chunk as it arrives (no buffering); a client that leaves cancels the service's generation.
 */
export async function forwardOpenAi(
  ctx: GatewayContext,
  req: IncomingMessage,
  res: ServerResponse,
  note: RequestNote,
  path: string,
): Promise<void> {
  const body = await readBody(req);
  const json = parseJsonObject(body);
  const { model, known } = await resolveModel(ctx, json['model'], 'llm');
  note.model = model.id;
  const keepAlive = json['keep_alive'] === undefined ? undefined : parseKeepAlive(json['keep_alive']);
  const signal = clientGone(res);
  const lease = await ctx.scheduler.acquire(model, { signal, known, ...(keepAlive !== undefined ? { keepAliveMs: keepAlive } : {}) });
  note.queuePosition = lease.queuePosition;
  note.loadMs = lease.loadMs;
  let firstTokenAt: number | undefined;
  let events = 0;
  let completionTokens: number | undefined;
  try {
    const sentAt = Date.now();
    // A service that answers only to its own model name gets it; the others take the body as sent.
    const sent = model.upstreamModel ? Buffer.from(JSON.stringify({ ...json, model: model.upstreamModel })) : body;
    const answer = await upstream(lease.port, 'POST', path, sent, signal);
    const headers: Record<string, string | string[]> = {
      'x-orchard-model': model.id,
      'x-orchard-queue-position': String(lease.queuePosition),
    };
    for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !DROP.has(name)) headers[name] = value;
    const streaming = String(answer.headers['content-type'] ?? '').includes('text/event-stream');
    res.writeHead(answer.statusCode ?? 502, headers);
    if (!streaming) {
      const bytes = await readAll(answer);
      res.end(bytes);
      completionTokens = usageOf(bytes);
      // Not streamed: the speed over the whole request (prompt included), a lower bound.
      firstTokenAt = sentAt;
      return;
    }
    res.flushHeaders();
    await new Promise<void>((resolve) => {
      answer.on('data', (chunk: Buffer) => {
        firstTokenAt ??= Date.now();
        events += countEvents(chunk);
        if (!res.write(chunk)) {
          answer.pause();
          res.once('drain', () => answer.resume());
        }
      });
      answer.on('end', () => {
        res.end();
        resolve();
      });
      answer.on('error', () => {
        res.destroy();
        resolve();
      });
      answer.on('close', resolve);
    });
    // One event per piece of text, plus the finish event, [DONE] and the usage event when asked for.
    const usageAsked = (json['stream_options'] as { include_usage?: unknown } | undefined)?.include_usage === true;
    completionTokens = Math.max(0, events - 2 - (usageAsked ? 1 : 0));
  } finally {
    note.tokens = completionTokens;
    lease.release({
      ...(completionTokens !== undefined ? { completionTokens } : {}),
      ...(firstTokenAt !== undefined ? { firstTokenAt } : {}),
      endedAt: Date.now(),
    });
  }
}

/** `data: ` events in a chunk of an SSE stream (events never split the marker across chunks in practice). */
function countEvents(chunk: Buffer): number {
  let n = 0;
  let at = chunk.indexOf('data: ');
  while (at >= 0) {
    n++;
    at = chunk.indexOf('data: ', at + 6);
  }
  return n;
}

function usageOf(bytes: Buffer): number | undefined {
  try {
    const usage = (JSON.parse(bytes.toString('utf8')) as { usage?: { completion_tokens?: unknown } }).usage;
    return typeof usage?.completion_tokens === 'number' ? usage.completion_tokens : undefined;
  } catch {
    return undefined;
  }
}

export function sendOpenAiError(res: ServerResponse, err: GatewayError): void {
  const body = JSON.stringify(err.openAiBody());
  if (res.headersSent) {
    res.end(`data: ${body}\n\n`);
    return;
  }
  res.writeHead(err.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
