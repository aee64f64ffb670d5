import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RangeServer {
  url(name: string): string;
  sha256(name: string): string;
  /** Bytes of file bodies sent, and the requests seen ("GET /name bytes=0-99"). */
  bytesServed: number;
  requests: string[];
  close(): Promise<void>;
}

/**
 * A static file server on 127.0.0.1 that answers Range requests (`bytes=a-b` and `bytes=a-`) with
 * 206, like a CDN or the Hugging Face hub: what fit's header reads and resumed downloads need.
 * With `range: false` it is a plain server that ignores Range and always answers 200 with the whole file.
 */
export async function startRangeServer(files: Record<string, Buffer>, o: { range?: boolean } = {}): Promise<RangeServer> {
  const honoursRange = o.range !== false;
  const state = { bytesServed: 0, requests: [] as string[] };
  const server = createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.slice(1));
    state.requests.push(`${req.method ?? ''} /${name} ${req.headers.range ?? ''}`.trim());
    const body = files[name];
    if (!body) return void res.writeHead(404).end('not found');
    // range: false is a server without Range support: it ignores the header and sends it all (200).
    const m = honoursRange ? /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? '')) : null;
    const start = m ? Number(m[1]) : 0;
    const end = m?.[2] ? Math.min(Number(m[2]), body.length - 1) : body.length - 1;
    if (m && start >= body.length) return void res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
    const part = body.subarray(start, end + 1);
    res.writeHead(m ? 206 : 200, {
      ...(honoursRange ? { 'accept-ranges': 'bytes' } : {}),
      'content-length': String(part.length),
      ...(m ? { 'content-range': `bytes ${start}-${end}/${body.length}` } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    state.bytesServed += part.length;
    res.end(part);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (name) => `http://127.0.0.1:${port}/${encodeURIComponent(name)}`,
    sha256: (name) =>
      createHash('sha256')
        .update(files[name] ?? Buffer.alloc(0))
        .digest('hex'),
    get bytesServed() {
      return state.bytesServed;
    },
    requests: state.requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
