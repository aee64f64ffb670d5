import type { ServerResponse } from 'node:http';
import { isOrchardError, type ErrorCode } from '../core/errors.js';
import type { ApiError } from './api-types.js';
import { HttpError } from './http-error.js';
import { sendJson } from './http-io.js';

export { HttpError };

/** Which HTTP status each OrchardError code answers with. */
const STATUS_BY_CODE: Record<ErrorCode, number> = {
  RECIPE_INVALID: 400,
  TEMPLATE: 400,
  PLAN: 400,
  USAGE: 400,
  PATH_ESCAPE: 400,
  ARCHIVE_UNSAFE: 400,
  RECIPE_NOT_FOUND: 404,
  NOT_INSTALLED: 404,
  LOCKED: 409,
  SERVICE: 409,
  REQUIREMENT: 422,
  BACKEND: 422,
  MODEL: 422,
  STEP_FAILED: 500,
  DOWNLOAD: 502,
  INTEGRITY: 502,
  AUTH: 403,
  DISK_SPACE: 507,
  CANCELLED: 409,
  IO: 500,
};

export function statusOf(code: string): number {
  return (STATUS_BY_CODE as Record<string, number | undefined>)[code] ?? 500;
}

/** The `{error:{code,message,where?,hint?}}` body and status of anything thrown. */
export function errorBody(err: unknown): { status: number; body: ApiError } {
  if (err instanceof HttpError) {
    return {
      status: err.status,
      body: {
        error: {
          code: err.code,
          message: err.message,
          ...(err.where ? { where: err.where } : {}),
          ...(err.hint ? { hint: err.hint } : {}),
        },
      },
    };
  }
  if (isOrchardError(err)) return { status: statusOf(err.code), body: { error: err.toJSON() } };
  // A bug: say so without internals (a stack could hold paths or secrets); the server log has it.
  return {
    status: 500,
    body: {
      error: {
        code: 'INTERNAL',
        message: 'internal error in the Orchard server',
        hint: 'See the output of `orchard serve` and report it.',
      },
    },
  };
}

export function sendError(res: ServerResponse, err: unknown): void {
  const { status, body } = errorBody(err);
  sendJson(res, status, body);
}
