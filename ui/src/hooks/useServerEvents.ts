import { useEffect, useRef, useState } from 'react';
import type { ServerMessage } from '../../../engine/api/api-types.js';
import { events } from '../api/events.js';

/** Call `handler` for every WebSocket message while the component is mounted. */
export function useServerEvents(handler: (message: ServerMessage) => void): void {
  const current = useRef(handler);
  current.current = handler;
  useEffect(() => events.subscribe((message) => current.current(message)), []);
}

export function useEventsConnected(): boolean {
  const [connected, setConnected] = useState(events.connected);
  useEffect(() => {
    const unsubscribe = events.onConnection(setConnected);
    // The socket may have opened between the first render and this effect.
    setConnected(events.connected);
    return unsubscribe;
  }, []);
  return connected;
}
