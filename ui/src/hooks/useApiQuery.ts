import { useQuery } from '@tanstack/react-query';
import { useCallback } from 'react';
import { api, ApiFailure } from '../api/client.js';
import { apiKey } from '../api/queries.js';

export interface Query<T> {
  data: T | undefined;
  error: ApiFailure | undefined;
  loading: boolean;
  reload: () => void;
}

/** GET a route through the shared query cache (TanStack Query), with reload. */
export function useApiQuery<T>(route: string | undefined, options: { refetchIntervalMs?: number } = {}): Query<T> {
  const query = useQuery({
    queryKey: apiKey(route ?? ''),
    queryFn: ({ signal }) => api<T>('GET', route ?? '', undefined, signal),
    enabled: route !== undefined,
    ...(options.refetchIntervalMs ? { refetchInterval: options.refetchIntervalMs } : {}),
  });
  const { refetch } = query;
  const reload = useCallback(() => void refetch(), [refetch]);
  const error =
    query.error === null ? undefined : query.error instanceof ApiFailure ? query.error : new ApiFailure(0, 'UI', String(query.error));
  return { data: query.data, error, loading: query.isFetching, reload };
}
