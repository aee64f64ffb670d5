import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { resolveModel, type GatewayContext, type RequestNote } from './context.js';
import { GatewayError } from './gateway-error.js';
import { clientGone, parseJsonObject, readAll, readBody, upstream } from './upstream.js';

const POLL_MS = 150;
/** Finished images kept for their `url` (the newest ones). */
const KEPT_IMAGES = 200;

interface JobSnapshot {
  id: string;
  state: string;
  error?: { message: string };
  result?: { mimeType: string; file?: string };
}

/**
 * POST /v1/images/generations (OpenAI's Images API) on an installed image app's job API
 * (engine/services/diffusion/job-api.ts): one job per image. What the request leaves out — steps,
 * guidance, size with "auto" — comes from the app's own settings, i.e. the recipe's Flux defaults
 * (schnell: 4 steps, cfg 1). `response_format` "b64_json" returns the PNG inline; "url" (OpenAI's
 * default) a gateway URL that serves it.
 */
export async function generateImages(ctx: GatewayContext, req: IncomingMessage, res: ServerResponse, note: RequestNote): Promise<void> {
  const body = parseJsonObject(await readBody(req));
  const prompt = body['prompt'];
  if (typeof prompt !== 'string' || prompt.trim() === '') throw new GatewayError(400, 'prompt is required', { param: 'prompt' });
  const n = body['n'] ?? 1;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 10)
    throw new GatewayError(400, 'n must be an integer from 1 to 10', { param: 'n' });
  const format = body['response_format'] ?? 'url';
  if (format !== 'url' && format !== 'b64_json')
    throw new GatewayError(400, 'response_format must be url or b64_json', { param: 'response_format' });
  const size = parseSize(body['size']);
  let name = body['model'];
  if (name === undefined || name === null) {
    // OpenAI's default model is its own; here the only image app, when there is exactly one.
    const images = (await ctx.catalog.list()).filter((m) => m.kind === 'image');
    if (images.length === 1) name = images[0]?.id;
  }
  const { model, known } = await resolveModel(ctx, name, 'image');
  note.model = model.id;
  const signal = clientGone(res);
  const lease = await ctx.scheduler.acquire(model, { signal, known });
  note.queuePosition = lease.queuePosition;
  note.loadMs = lease.loadMs;
  try {
    const data: Record<string, unknown>[] = [];
    for (let i = 0; i < n; i++) {
      const seed = typeof body['seed'] === 'number' ? body['seed'] + i : undefined;
      const job: Record<string, unknown> = { prompt, ...size, ...(seed !== undefined ? { seed } : {}) };
      if (typeof body['steps'] === 'number') job['steps'] = body['steps'];
      if (typeof body['negative_prompt'] === 'string') job['negative'] = body['negative_prompt'];
      const submitted = await call<JobSnapshot>(lease.port, 'POST', '/v1/jobs', job, signal);
      const done = await waitJob(lease.port, submitted.id, signal);
      if (done.state !== 'completed' || !done.result)
        throw new GatewayError(500, `the image job failed: ${done.error?.message ?? done.state}`, { code: 'generation_failed' });
      if (format === 'b64_json') {
        const bytes = await readAll(await upstream(lease.port, 'GET', `/v1/jobs/${encodeURIComponent(done.id)}/result`, undefined, signal));
        data.push({ b64_json: bytes.toString('base64'), revised_prompt: prompt });
      } else {
        const key = `${randomBytes(12).toString('hex')}`;
        ctx.images.set(key, {
          appId: model.id,
          jobId: done.id,
          mimeType: done.result.mimeType,
          ...(done.result.file ? { file: done.result.file } : {}),
        });
        while (ctx.images.size > KEPT_IMAGES) ctx.images.delete(ctx.images.keys().next().value as string);
        data.push({ url: `http://127.0.0.1:${ctx.port}/v1/images/files/${key}`, revised_prompt: prompt });
      }
    }
    const text = JSON.stringify({ created: Math.floor(Date.now() / 1000), data });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-orchard-model': model.id });
    res.end(text);
  } finally {
    lease.release();
  }
}

/** GET /v1/images/files/<key>: the saved render, or the app's copy while it still runs. */
export async function serveImageFile(ctx: GatewayContext, key: string, res: ServerResponse): Promise<void> {
  const image = ctx.images.get(key);
  if (!image) throw new GatewayError(404, 'no such image (the gateway keeps the URLs of its last 200 images until it restarts)');
  if (image.file && existsSync(image.file)) {
    res.writeHead(200, { 'content-type': image.mimeType });
    await pipeline(createReadStream(image.file), res);
    return;
  }
  const port = ctx.scheduler.list().find((m) => m.id === image.appId && m.state === 'ready')?.port;
  if (port === undefined) throw new GatewayError(410, `the image was not saved to disk and ${image.appId} is no longer running`);
  const answer = await upstream(port, 'GET', `/v1/jobs/${encodeURIComponent(image.jobId)}/result`, undefined, clientGone(res));
  res.writeHead(answer.statusCode ?? 502, { 'content-type': String(answer.headers['content-type'] ?? image.mimeType) });
  await pipeline(answer, res);
}

function parseSize(value: unknown): { width?: number; height?: number } {
  if (value === undefined || value === null || value === 'auto') return {};
  const m = typeof value === 'string' ? /^(\d{2,4})x(\d{2,4})$/.exec(value) : null;
  if (!m) throw new GatewayError(400, 'size must be WIDTHxHEIGHT (e.g. 1024x1024) or auto', { param: 'size' });
  return { width: Number(m[1]), height: Number(m[2]) };
}

async function call<T>(port: number, method: string, path: string, body: unknown, signal: AbortSignal): Promise<T> {
  const answer = await upstream(port, method, path, body === undefined ? undefined : Buffer.from(JSON.stringify(body)), signal);
  const text = (await readAll(answer)).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GatewayError(502, `the image service answered ${answer.statusCode ?? '?'} with something that is not JSON`);
  }
  if ((answer.statusCode ?? 500) >= 400) {
    const message = (value as { error?: { message?: string } }).error?.message ?? `HTTP ${answer.statusCode ?? '?'}`;
    throw new GatewayError(answer.statusCode === 400 ? 400 : 502, `the image service refused the job: ${message}`);
  }
  return value as T;
}

async function waitJob(port: number, id: string, signal: AbortSignal): Promise<JobSnapshot> {
  const path = `/v1/jobs/${encodeURIComponent(id)}`;
  try {
    for (;;) {
      const job = await call<JobSnapshot>(port, 'GET', path, undefined, signal);
      if (job.state === 'completed' || job.state === 'failed' || job.state === 'cancelled') return job;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } catch (err) {
    // The client left: cancel the render so the GPU is free for the next one.
    if (signal.aborted) await call(port, 'POST', `${path}/cancel`, {}, new AbortController().signal).catch(() => undefined);
    throw err;
  }
}
