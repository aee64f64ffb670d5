import { request } from 'node:http';

/** How long one read of a service may take; the metrics sample goes out without it after that. */
const READ_TIMEOUT_MS = 800;
const MAX_BODY_BYTES = 1024 * 1024;

/** GET a running service's JSON on 127.0.0.1:<port>; undefined when it does not answer 200 JSON in time. */
export function getServiceJson(port: number, path: string): Promise<unknown> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: READ_TIMEOUT_MS }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        resolve(undefined);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) req.destroy();
        else chunks.push(chunk);
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown);
        } catch {
          resolve(undefined);
        }
      });
      res.on('error', () => resolve(undefined));
      res.on('close', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}
