import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectionPacer } from './connection-pacer.js';

/**
 * A loopback HTTP file server for the downloader's tests and benchmark: Range and If-Range like a
 * CDN (or no Range at all), a per-connection rate limit, files generated on the fly (a multi-GB
 * file is never stored), a count of body bytes served, and hooks for the failures real servers
 * produce (5xx, truncated bodies, redirects, auth checks).
 */
export interface Content {
  size: number;
  /** Bytes [start, end) as chunks of at most 64 KiB. */
  chunks(start: number, end: number): Generator<Buffer>;
}

const CHUNK = 64 * 1024;
const BLOCK = 2 ** 20;

export function bufferContent(data: Buffer): Content {
  return {
    size: data.length,
    *chunks(start, end) {
      for (let at = start; at < end; at += CHUNK) yield data.subarray(at, Math.min(end, at + CHUNK));
    },
  };
}

/** Deterministic pseudo-random bytes: 1 MiB blocks of one seeded pattern, each stamped with its index. */
export function generatedContent(size: number, seed = 1): Content {
  const base = Buffer.allocUnsafe(BLOCK);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < BLOCK; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    base.writeUInt32LE(x, i);
  }
  const block = (k: number) => {
    const b = Buffer.allocUnsafe(BLOCK);
    base.copy(b);
    b.writeBigUInt64LE(BigInt(k), 0);
    b.writeUInt32LE(seed >>> 0, 8);
    return b;
  };
  return {
    size,
    *chunks(start, end) {
      let at = start;
      while (at < end) {
        const k = Math.floor(at / BLOCK);
        const b = block(k);
        const blockEnd = Math.min(end, (k + 1) * BLOCK);
        for (; at < blockEnd; at += Math.min(CHUNK, blockEnd - at))
          yield b.subarray(at - k * BLOCK, Math.min(blockEnd, at + CHUNK) - k * BLOCK);
      }
    },
  };
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

export function sha256OfContent(content: Content): string {
  const hash = createHash('sha256');
  for (const c of content.chunks(0, content.size)) hash.update(c);
  return hash.digest('hex');
}

export interface ServedFile {
  content: Content;
  etag?: string;
  lastModified?: string;
  /** Extra response headers (e.g. X-Linked-Etag). */
  headers?: Record<string, string>;
}

/** What a hook may answer instead of (or on top of) serving the file. */
export type HookAnswer =
  | { status: number; headers?: Record<string, string>; body?: string }
  | { truncateAfter: number }
  | { stallAfter: number };

export interface RecordedRequest {
  path: string;
  method: string;
  headers: IncomingMessage['headers'];
}

export interface LoopbackServerOptions {
  host?: string;
  /** Honour Range / If-Range (default true). */
  ranges?: boolean;
  /** Bytes per second per connection, shared by the responses on it (default unlimited). */
  ratePerConnection?: number;
  /** Called for each request (0-based count) before the file is served. */
  hook?: (req: IncomingMessage, n: number) => HookAnswer | undefined;
  /** Serve https with this key and certificate (PEM) instead of http. */
  tls?: { key: string; cert: string };
}

export class LoopbackServer {
  readonly files = new Map<string, ServedFile>();
  readonly requests: RecordedRequest[] = [];
  bytesServed = 0;
  private readonly pacers = new WeakMap<Socket, ConnectionPacer>();
  private server: http.Server | https.Server | undefined;
  private base = '';

  constructor(private readonly o: LoopbackServerOptions = {}) {}

  async start(): Promise<this> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      void this.handle(req, res).catch(() => res.destroy());
    };
    this.server = this.o.tls ? https.createServer({ key: this.o.tls.key, cert: this.o.tls.cert }, handler) : http.createServer(handler);
    this.server.keepAliveTimeout = 2_000;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, this.o.host ?? '127.0.0.1', () => resolve());
    });
    const { address, port } = this.server.address() as AddressInfo;
    this.base = `${this.o.tls ? 'https' : 'http'}://${address}:${port}`;
    return this;
  }

  url(p: string): string {
    return `${this.base}${p}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const n = this.requests.length;
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    this.requests.push({ path: p, method: req.method ?? 'GET', headers: req.headers });
    const answer = this.o.hook?.(req, n);
    if (answer && 'status' in answer) {
      res.writeHead(answer.status, { 'content-length': Buffer.byteLength(answer.body ?? ''), ...answer.headers });
      res.end(answer.body ?? '');
      return;
    }
    const file = this.files.get(p);
    if (!file) {
      res.writeHead(404, { 'content-length': 9 });
      res.end('not found');
      return;
    }
    const size = file.content.size;
    const common: Record<string, string> = {
      ...(file.etag ? { etag: file.etag } : {}),
      ...(file.lastModified ? { 'last-modified': file.lastModified } : {}),
      ...file.headers,
    };
    let start = 0;
    let end = size;
    let status = 200;
    const range = this.o.ranges === false ? undefined : req.headers.range;
    const ifRange = req.headers['if-range'];
    const rangeApplies = range !== undefined && (ifRange === undefined || ifRange === file.etag || ifRange === file.lastModified);
    if (this.o.ranges !== false) common['accept-ranges'] = 'bytes';
    if (range && rangeApplies) {
      const m = /^bytes=(\d+)-(\d*)$/.exec(range);
      if (!m || Number(m[1]) >= size) {
        res.writeHead(416, { 'content-range': `bytes */${size}`, 'content-length': 0 });
        res.end();
        return;
      }
      start = Number(m[1]);
      end = m[2] ? Math.min(size, Number(m[2]) + 1) : size;
      status = 206;
      common['content-range'] = `bytes ${start}-${end - 1}/${size}`;
    }
    res.writeHead(status, { ...common, 'content-length': end - start, 'content-type': 'application/octet-stream' });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const limit =
      answer && 'truncateAfter' in answer ? answer.truncateAfter : answer && 'stallAfter' in answer ? answer.stallAfter : Infinity;
    const stall = answer !== undefined && 'stallAfter' in answer;
    const rate = this.o.ratePerConnection;
    let pacer = rate ? this.pacers.get(req.socket) : undefined;
    if (rate && !pacer) {
      pacer = new ConnectionPacer(rate);
      this.pacers.set(req.socket, pacer);
    }
    let sent = 0;
    let closed = false;
    res.once('close', () => {
      closed = true;
    });
    // Rate-limited responses go out in pieces of ~20 ms, like a paced CDN, not in bursts.
    const pieceSize = rate ? Math.max(4096, Math.min(CHUNK, Math.floor(rate / 50))) : CHUNK;
    for (const big of file.content.chunks(start, end)) {
      for (let off = 0; off < big.length; off += pieceSize) {
        const chunk = big.subarray(off, off + pieceSize);
        if (closed) return;
        const piece = sent + chunk.length > limit ? chunk.subarray(0, limit - sent) : chunk;
        await pacer?.take(piece.length);
        if (closed) return;
        if (piece.length > 0) {
          this.bytesServed += piece.length;
          sent += piece.length;
          if (!res.write(piece)) await drained(res);
        }
        if (sent >= limit && stall) {
          // A stalled server: the connection stays open and silent until the client gives up.
          if (!closed) await new Promise<void>((resolve) => res.once('close', resolve));
          return;
        }
        if (sent >= limit) {
          await sleep(20);
          res.destroy(); // a truncated body: the connection just ends
          return;
        }
      }
    }
    res.end();
  }
}
