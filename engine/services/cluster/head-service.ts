import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { OrchardError } from '../../core/errors.js';
import type { ClusterSplit } from '../../cluster/split.js';
import { ClusterGroup, type GroupOptions } from './group.js';

/**
 * The head of a cluster as an Orchard service (DESIGN §6): it owns the app's port on 127.0.0.1 and
 * keeps it while the group behind it restarts. `GET /health` answers the group's state per node;
 * every other path (the OpenAI API: /v1/models, /v1/chat/completions …) is passed to the head's
 * llama-server as it streams, or answered 503 while the group (re)starts.
 */
export interface HeadServiceOptions extends GroupOptions {
  port: number;
  split: ClusterSplit;
}

export interface RunningHead {
  url: string;
  group: ClusterGroup;
  stop(): Promise<void>;
}

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'te', 'trailer']);

export async function startHeadService(o: HeadServiceOptions): Promise<RunningHead> {
  const group = new ClusterGroup(o);
  const modelId = path.basename(o.model).replace(/(-\d{5}-of-\d{5})?\.gguf$/, '');
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const status = group.snapshot();
    if (req.method === 'GET' && url.pathname === '/health') {
      const body = {
        status: status.state === 'ready' ? 'ok' : status.state,
        backend: 'rpc',
        model: modelId,
        engine: 'llama.cpp-rpc',
        restarts: status.restarts,
        ...(status.lastFailure ? { lastFailure: status.lastFailure } : {}),
        tensorSplit: o.tensorSplit,
        nodes: status.nodes.map((n) => ({ ...n, predicted: o.split.nodes.find((p) => p.name === n.name) ?? null })),
        note: 'A cluster buys memory, not speed: decode runs at about single-node speed.',
      };
      res.writeHead(status.state === 'ready' ? 200 : 503, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
      return;
    }
    if (status.state !== 'ready' || status.serverPort === undefined) {
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '2' });
      res.end(
        JSON.stringify({
          error: {
            message: `the cluster is ${status.state}${status.lastFailure ? ` after: ${status.lastFailure}` : ''}`,
            type: 'unavailable',
            code: 'cluster_not_ready',
          },
        }),
      );
      return;
    }
    const headers: IncomingHttpHeaders = {};
    for (const [name, value] of Object.entries(req.headers)) if (!HOP.has(name)) headers[name] = value;
    headers.host = `127.0.0.1:${status.serverPort}`;
    const upstream = httpRequest(
      { host: '127.0.0.1', port: status.serverPort, method: req.method, path: `${url.pathname}${url.search}`, headers },
      (answer) => {
        const out: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !HOP.has(name)) out[name] = value;
        res.writeHead(answer.statusCode ?? 502, out);
        res.flushHeaders();
        answer.pipe(res);
        answer.on('error', () => res.destroy());
      },
    );
    upstream.on('error', (err) => {
      if (res.headersSent) res.destroy();
      else {
        res.writeHead(502, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ error: { message: `llama-server did not answer: ${err.message}`, type: 'bad_gateway' } }));
      }
    });
    // A client that goes away cancels its generation upstream.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  server.listen(o.port, '127.0.0.1');
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => {
      throw new OrchardError('SERVICE', `cannot listen on 127.0.0.1:${o.port}: ${(err as Error).message}`, {
        hint: 'Pick another --port.',
      });
    }),
  ]);
  group.start();
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    group,
    async stop() {
      server.closeAllConnections();
      server.close();
      await group.stop();
    },
  };
}
