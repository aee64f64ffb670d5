import { useEffect, useState } from 'react';
import { api } from '../api/client.js';

const POLL_MS = 2000;
const KEEP = 120;

/**
 * Tokens/s of a running LLM service, read from its own GET /metrics (DESIGN §6) through the API's
 * service proxy: `tokensPerSecond.last` is the speed of the latest completion. Polled only while
 * the service is ready; the supervisor's samples carry memory and CPU, not throughput.
 */
export function useLlmThroughput(appId: string, enabled: boolean): number[] {
  const [values, setValues] = useState<number[]>([]);
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    const poll = async (): Promise<void> => {
      try {
        const metrics = await api<{ tokensPerSecond?: { last?: number | null } }>('GET', `/apps/${encodeURIComponent(appId)}/service/metrics`);
        const last = metrics.tokensPerSecond?.last;
        if (live && typeof last === 'number') setValues((v) => [...v, last].slice(-KEEP));
      } catch {
        // The service may be restarting; the next poll tries again.
      }
    };
    void poll();
    const timer = window.setInterval(() => void poll(), POLL_MS);
    return () => {
      live = false;
      window.clearInterval(timer);
    };
  }, [appId, enabled]);
  return values;
}
