import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiFailure } from '../api/client.js';

export interface Query<T> {
  data: T | undefined;
  error: ApiFailure | undefined;
  loading: boolean;
  reload: () => void;
}

/** GET a route, with reload; stale answers from an earlier route are dropped. */
export function useApiQuery<T>(route: string | undefined): Query<T> {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<ApiFailure>();
  const [loading, setLoading] = useState(route !== undefined);
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);

  useEffect(() => {
    if (route === undefined) return;
    const ticket = ++latest.current;
    const controller = new AbortController();
    setLoading(true);
    api<T>('GET', route, undefined, controller.signal)
      .then((value) => {
        if (ticket !== latest.current) return;
        setData(value);
        setError(undefined);
      })
      .catch((err: unknown) => {
        if (ticket !== latest.current || (err instanceof DOMException && err.name === 'AbortError')) return;
        setError(err instanceof ApiFailure ? err : new ApiFailure(0, 'UI', String(err)));
      })
      .finally(() => {
        if (ticket === latest.current) setLoading(false);
      });
    return () => controller.abort();
  }, [route, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data, error, loading, reload };
}
