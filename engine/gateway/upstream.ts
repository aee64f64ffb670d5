import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { GatewayError } from './gateway-error.js';

/** One keep-alive pool to the apps' ports: no TCP handshake on the time-to-first-token path. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, keepAliveMsecs: 10_000 });

export const MAX_BODY_BYTES = 64 * 1024 * 1024;

/** The request body, whole (requests are small JSON; 413 past 64 MiB). */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new GatewayError(413, `the request body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function parseJsonObject(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new GatewayError(400, `the body is not valid JSON: ${(err as Error).message}`, { code: 'invalid_json' });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new GatewayError(400, 'the request body must be a JSON object');
  return value as Record<string, unknown>;
}

/**
 * Send a request to an app on 127.0.0.1:port. Resolves with its response; the signal (the client
 * leaving) destroys the upstream request, which makes the service stop generating.
 */
export function upstream(
  port: number,
  method: string,
  path: string,
  body: Buffer | undefined,
  signal: AbortSignal,
  headers: Record<string, string> = {},
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: { ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}), ...headers },
      },
      resolve,
    );
    // Each token's event goes out as soon as it is written (no Nagle delay on a pooled socket).
    req.on('socket', (socket) => socket.setNoDelay(true));
    const onAbort = (): void => {
      req.destroy(new GatewayError(499, 'the client went away', { code: 'cancelled' }));
    };
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => signal.removeEventListener('abort', onAbort));
    req.on('error', (err) =>
      reject(
        err instanceof GatewayError
          ? err
          : new GatewayError(502, `the model's service did not answer: ${err.message}`, { code: 'upstream_error' }),
      ),
    );
    req.end(body);
  });
}

export async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** An AbortSignal that fires when the client closes the connection before the answer is complete. */
export function clientGone(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * Incremental parser of an upstream SSE stream (`data: <json>` events): calls `onEvent` with each
 * parsed payload, `[DONE]` excluded.
 */
export class SseParser {
  private buffer = '';

  constructor(private readonly onEvent: (value: unknown) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      for (const line of block.split('\n')) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '' || data === '[DONE]') continue;
        try {
          this.onEvent(JSON.parse(data));
        } catch {
          // a malformed event is skipped, as browsers do
        }
      }
    }
  }
}
