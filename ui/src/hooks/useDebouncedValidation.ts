import { useEffect, useState } from 'react';
import type { ValidateResponse } from '../../../engine/api/api-types.js';
import { api } from '../api/client.js';

/** Validate the text (POST /recipes/validate) once typing pauses; the newest answer wins. */
export function useDebouncedValidation(
  text: string,
  delayMs = 300,
): { result: ValidateResponse | undefined; checking: boolean; error: unknown } {
  const [result, setResult] = useState<ValidateResponse>();
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    const controller = new AbortController();
    setChecking(true);
    const timer = window.setTimeout(() => {
      api('POST /recipes/validate', { body: { text }, signal: controller.signal })
        .then((r) => {
          setResult(r);
          setError(undefined);
          setChecking(false);
        })
        .catch((err: unknown) => {
          if (err instanceof DOMException && err.name === 'AbortError') return;
          setError(err);
          setChecking(false);
        });
    }, delayMs);
    return () => {
      window.clearTimeout(timer);
      controller.abort();
    };
  }, [text, delayMs]);
  return { result, checking, error };
}
