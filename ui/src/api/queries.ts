import { QueryClient } from '@tanstack/react-query';
import type { ServerMessage } from '../../../engine/api/api-types.js';
import { ApiFailure } from './client.js';
import { events } from './events.js';

/**
 * One cache for every GET the UI makes (TanStack Query): a page visited before shows its data at
 * once while it refreshes, two components asking for the catalog share one request, and server
 * events invalidate exactly what they change.
 */
export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      // A refusal (4xx) will not change by asking again; a dropped connection might.
      retry: (count, error) => !(error instanceof ApiFailure && error.status >= 400 && error.status < 500) && count < 2,
      refetchOnWindowFocus: false,
    },
  },
});

export const apiKey = (route: string) => ['api', route] as const;

/** Keep the cache honest: what a server event changes is fetched again. */
export function invalidateOnEvents(): () => void {
  return events.subscribe((message: ServerMessage) => {
    if (message.type === 'job') {
      // A job starting or ending changes the Library (installing, installed, failed, gone).
      void queryClient.invalidateQueries({ queryKey: apiKey('/apps') });
      void queryClient.invalidateQueries({ queryKey: apiKey('/jobs') });
      if (message.job.state !== 'running') void queryClient.invalidateQueries({ queryKey: apiKey('/catalog') });
    } else if (message.type === 'status' || message.type === 'verdict') {
      void queryClient.invalidateQueries({ queryKey: apiKey('/apps') });
    }
  });
}
