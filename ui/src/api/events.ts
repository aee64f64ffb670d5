import type { ServerMessage } from '../../../engine/api/api-types.js';
import { API, apiToken } from './client.js';

type Listener = (message: ServerMessage) => void;
type ConnectionListener = (connected: boolean) => void;

/**
 * The one WebSocket to /api/v1/events. The token rides as the subprotocol `orchard.token.<token>`
 * (offered beside `orchard.v1`, which the server selects so the token is never echoed back)
 * (browsers cannot set headers on a WebSocket, and a URL would leak it into logs). Reconnects with
 * a capped backoff so a restarted server is picked up without a reload.
 */
class EventStream {
  private socket: WebSocket | undefined;
  private listeners = new Set<Listener>();
  private connectionListeners = new Set<ConnectionListener>();
  private retryMs = 500;
  private stopped = false;
  connected = false;

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    this.socket?.close();
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onConnection(listener: ConnectionListener): () => void {
    this.connectionListeners.add(listener);
    return () => this.connectionListeners.delete(listener);
  }

  private open(): void {
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    // With a token (Electron) it rides as a subprotocol; in a browser the session cookie is sent.
    const token = apiToken();
    const socket = new WebSocket(
      `${scheme}://${window.location.host}${API}/events`,
      token ? ['orchard.v1', `orchard.token.${token}`] : ['orchard.v1'],
    );
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.retryMs = 500;
      this.setConnected(true);
    });
    socket.addEventListener('message', (event: MessageEvent<unknown>) => {
      if (typeof event.data !== 'string') return;
      let message: ServerMessage;
      try {
        message = JSON.parse(event.data) as ServerMessage;
      } catch {
        return;
      }
      for (const listener of this.listeners) listener(message);
    });
    socket.addEventListener('close', () => {
      this.setConnected(false);
      if (this.stopped) return;
      window.setTimeout(() => this.open(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    });
  }

  private setConnected(value: boolean): void {
    this.connected = value;
    for (const listener of this.connectionListeners) listener(value);
  }
}

export const events = new EventStream();
