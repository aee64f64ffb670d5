import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServedFile {
  name: string;
  bytes: Buffer;
  /** Serve at about this rate, so a browser can watch the progress bar move. */
  bytesPerSecond?: number;
}

export interface WeightsServer {
  url(name: string): string;
  sha256(name: string): string;
  size(name: string): number;
  /** Requests seen, for asserting the download really came from here. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * A real HTTP file server on 127.0.0.1 for recipe weights: Content-Length, Range (206) for
 * resumes, and optional throttling. Nothing here knows Orchard.
 */
export async function startWeightsServer(files: ServedFile[]): Promise<WeightsServer> {
  const byName = new Map(files.map((f) => [f.name, f]));
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1).split('?')[0] ?? '');
    requests.push(`${req.method} /${name} ${req.headers.range ?? ''}`.trim());
    const file = byName.get(name);
    if (!file) {
      res.writeHead(404).end('not found');
      return;
    }
    let start = 0;
    let end = file.bytes.length - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (range[2]) end = Math.min(Number(range[2]), end);
      if (start > end) {
        res.writeHead(416, { 'content-range': `bytes */${file.bytes.length}` }).end();
        return;
      }
    }
    const body = file.bytes.subarray(start, end + 1);
    res.writeHead(range ? 206 : 200, {
      'content-type': 'application/octet-stream',
      'content-length': String(body.length),
      'accept-ranges': 'bytes',
      ...(range ? { 'content-range': `bytes ${start}-${end}/${file.bytes.length}` } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    if (!file.bytesPerSecond) {
      res.end(body);
      return;
    }
    // Throttle in 10 slices per second.
    const slice = Math.max(1, Math.floor(file.bytesPerSecond / 10));
    let offset = 0;
    const timer = setInterval(() => {
      if (res.destroyed) {
        clearInterval(timer);
        return;
      }
      const chunk = body.subarray(offset, offset + slice);
      offset += chunk.length;
      if (offset >= body.length) {
        clearInterval(timer);
        res.end(chunk);
      } else {
        res.write(chunk);
      }
    }, 100);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const need = (name: string): ServedFile => {
    const file = byName.get(name);
    if (!file) throw new Error(`no served file ${name}`);
    return file;
  };
  return {
    url: (name) => `http://127.0.0.1:${port}/${encodeURIComponent(name)}`,
    sha256: (name) => createHash('sha256').update(need(name).bytes).digest('hex'),
    size: (name) => need(name).bytes.length,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
