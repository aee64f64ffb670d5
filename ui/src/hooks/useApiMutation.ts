import { useMutation } from '@tanstack/react-query';
import { useCallback } from 'react';
import { apiKey, queryClient } from '../api/queries.js';

export interface Mutation<A, R> {
  /** Run the change; resolves with its result, or undefined when it failed (the failure is in `error`). */
  run: (args: A) => Promise<R | undefined>;
  busy: boolean;
  error: unknown;
  reset: () => void;
}

/**
 * A POST/PUT/DELETE through TanStack Query: busy and error state kept by the library, and the GET
 * routes the change affects (`invalidates`) fetched again when it succeeds, so every page showing
 * them agrees without a manual reload.
 */
export function useApiMutation<A, R>(call: (args: A) => Promise<R>, invalidates: readonly string[] = []): Mutation<A, R> {
  const mutation = useMutation({
    mutationFn: call,
    onSuccess: () => {
      for (const route of invalidates) void queryClient.invalidateQueries({ queryKey: apiKey(route) });
    },
  });
  const { mutateAsync, reset } = mutation;
  const run = useCallback(
    async (args: A) => {
      try {
        return await mutateAsync(args);
      } catch {
        return undefined;
      }
    },
    [mutateAsync],
  );
  return { run, busy: mutation.isPending, error: mutation.error ?? undefined, reset };
}
