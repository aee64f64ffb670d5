import { createServer, connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/** A free TCP port on 127.0.0.1, or on `host` (the kernel's choice). */
export function freeLoopbackPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Wait until 127.0.0.1:port (or host:port, for a trusted direct cable) accepts a TCP connection, then
 * close it at once. ggml-rpc-server serves one client at a time, so the probe must never linger: it
 * connects, and closes before any HELLO.
 */
export async function waitForPort(
  port: number,
  o: { timeoutMs: number; signal?: AbortSignal; alive?: () => boolean; host?: string },
): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    if (o.signal?.aborted) throw new Error('cancelled');
    if (o.alive && !o.alive()) throw new Error('the process exited before it listened');
    if (await tryConnect(port, o.host ?? '127.0.0.1')) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on 127.0.0.1:${port} within ${Math.round(o.timeoutMs / 1000)} s`);
    await delay(100);
  }
}

function tryConnect(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
