import { useState } from 'react';
import type { MetricsSample } from '../../../engine/api/api-types.js';
import { useServerEvents } from './useServerEvents.js';

/** The latest metrics sample of every running app, as the server pushes them. */
export function useLatestMetrics(): Record<string, MetricsSample> {
  const [latest, setLatest] = useState<Record<string, MetricsSample>>({});
  useServerEvents((message) => {
    if (message.type === 'metrics') setLatest((prev) => ({ ...prev, [message.app]: message.sample }));
    else if (message.type === 'status' && (message.status.state === 'stopped' || message.status.state === 'crashed')) {
      setLatest((prev) => {
        const { [message.app]: _gone, ...rest } = prev;
        return rest;
      });
    }
  });
  return latest;
}
