import { request, type IncomingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';
import type { ServerMessage } from '../../engine/api/api-types.js';
import { startServer, type RunningServer, type ServerOptions } from '../../engine/api/server.js';
import { WS_PROTOCOL, WS_TOKEN_PREFIX } from '../../engine/api/security.js';
import { resolveHome } from '../../engine/core/home.js';

export interface TestServer {
  server: RunningServer;
  token: string;
  port: number;
  /** Every line the server logged. */
  logs: string[];
}

export async function startTestServer(homeDir: string, options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const logs: string[] = [];
  const server = await startServer({ home: resolveHome({ ORCHARD_HOME: homeDir }), port: 0, log: (l) => logs.push(l), ...options });
  return { server, token: server.context.token, port: server.port, logs };
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A real HTTP request with exactly the headers given (Host included), to 127.0.0.1:port. */
export function rawRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          ...headers,
          ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}),
        },
        setHost: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error(`timeout on ${method} ${path}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A WebSocket upgrade request with exact headers; resolves with the HTTP status the server gave (101 on success). */
export function rawUpgrade(port: number, path: string, headers: Record<string, string>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      setHost: false,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        ...headers,
      },
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`timeout on upgrade ${path}`)));
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The API with the token, Host and no Origin, as the CLI would call it. */
export async function api<T = unknown>(
  t: TestServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; value: T; raw: RawResponse }> {
  const raw = await rawRequest(
    t.port,
    method,
    `/api/v1${path}`,
    { host: `127.0.0.1:${t.port}`, authorization: `Bearer ${t.token}` },
    body === undefined ? undefined : JSON.stringify(body),
  );
  return { status: raw.status, value: JSON.parse(raw.body) as T, raw };
}

/** A connected event stream that records every message. */
export interface EventStream {
  messages: ServerMessage[];
  waitFor<M extends ServerMessage>(test: (m: ServerMessage) => m is M, timeoutMs?: number, what?: string): Promise<M>;
  waitFor(test: (m: ServerMessage) => boolean, timeoutMs?: number, what?: string): Promise<ServerMessage>;
  close(): void;
}

export async function openEvents(t: TestServer): Promise<EventStream> {
  const socket = new WebSocket(`ws://127.0.0.1:${t.port}/api/v1/events`, [WS_PROTOCOL, `${WS_TOKEN_PREFIX}${t.token}`]);
  const messages: ServerMessage[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)) as ServerMessage);
    for (const w of waiters) w();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return {
    messages,
    waitFor(test: (m: ServerMessage) => boolean, timeoutMs = 30_000, what = 'a message') {
      return new Promise<ServerMessage>((resolve, reject) => {
        const found = messages.find(test);
        if (found) return resolve(found);
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; got: ${messages.map((m) => m.type).join(',')}`));
        }, timeoutMs);
        const check = (): void => {
          const hit = messages.find(test);
          if (!hit) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(hit);
        };
        waiters.add(check);
      });
    },
    close: () => socket.terminate(),
  } as EventStream;
}
