import type { ServerResponse } from 'node:http';
import { sendJson } from '../core/http-kit.js';

/** An OpenAI-style error: `{ error: { message, type, param, code } }` with its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: 'invalid_request_error' | 'not_found_error' | 'server_error' | 'service_unavailable' = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export function badRequest(message: string, param: string | null = null, code: string | null = null): ApiError {
  return new ApiError(400, message, 'invalid_request_error', param, code);
}

export { sendJson };

export function sendError(res: ServerResponse, err: unknown): void {
  const api = err instanceof ApiError ? err : new ApiError(500, err instanceof Error ? err.message : String(err), 'server_error');
  if (res.headersSent) {
    // Mid-stream: report inside the event stream, then end it.
    res.end(`data: ${JSON.stringify(api.body())}\n\n`);
    return;
  }
  sendJson(res, api.status, api.body());
}
