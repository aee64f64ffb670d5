import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ServerMessage } from './api-types.js';
import { WS_PROTOCOL, WS_TOKEN_PREFIX } from './security.js';

/** A client that falls this far behind is dropped rather than buffering without bound. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/**
 * The WebSocket side of the API: server → client messages only. The upgrade is checked by the
 * server (security.ts) before it reaches here.
 */
export class EventHub {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: 64 * 1024,
    // Select the plain protocol name when the client offers it, so the token is not echoed back;
    // a client that offered only the token protocol gets that one (browsers require a selection).
    handleProtocols: (protocols: Set<string>) => {
      if (protocols.has(WS_PROTOCOL)) return WS_PROTOCOL;
      for (const p of protocols) if (p.startsWith(WS_TOKEN_PREFIX)) return p;
      return false;
    },
  });

  constructor(private readonly version: string) {
    this.wss.on('connection', (socket: WebSocket) => {
      // Clients do not send anything meaningful; a message is ignored, never echoed.
      socket.on('message', () => undefined);
      socket.on('error', () => socket.terminate());
      this.sendTo(socket, { type: 'hello', version: this.version });
    });
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
  }

  publish(message: ServerMessage): void {
    if (this.wss.clients.size === 0) return;
    const data = JSON.stringify(message);
    for (const client of this.wss.clients) this.sendRaw(client, data);
  }

  get clientCount(): number {
    return this.wss.clients.size;
  }

  async close(): Promise<void> {
    for (const client of this.wss.clients) client.close(1001, 'server shutting down');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        for (const client of this.wss.clients) client.terminate();
        resolve();
      }, 1000);
      timer.unref();
      this.wss.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private sendTo(socket: WebSocket, message: ServerMessage): void {
    this.sendRaw(socket, JSON.stringify(message));
  }

  private sendRaw(socket: WebSocket, data: string): void {
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      socket.terminate();
      return;
    }
    socket.send(data);
  }
}
