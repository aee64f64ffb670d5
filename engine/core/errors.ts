/**
 * Every error a user can see is an OrchardError: what went wrong (message), where (a file, a JSON
 * pointer, a step, a URL) and what to do (hint). The CLI prints these as one clear message with
 * exit code 1; anything else is a bug and is printed with its stack.
 */
export type ErrorCode =
  | 'RECIPE_INVALID'
  | 'RECIPE_NOT_FOUND'
  | 'TEMPLATE'
  | 'PLAN'
  | 'REQUIREMENT'
  | 'STEP_FAILED'
  | 'LOCKED'
  | 'PATH_ESCAPE'
  | 'ARCHIVE_UNSAFE'
  | 'DOWNLOAD'
  | 'INTEGRITY'
  | 'AUTH'
  | 'DISK_SPACE'
  | 'NOT_INSTALLED'
  | 'BACKEND'
  | 'MODEL'
  | 'SERVICE'
  | 'USAGE'
  | 'CANCELLED'
  | 'IO';

export interface ErrorDetails {
  /** Where it happened: `file:/json/pointer`, `step install[2] (git)`, a URL… */
  where?: string;
  /** What the user should do about it. */
  hint?: string;
  cause?: unknown;
}

export class OrchardError extends Error {
  readonly code: ErrorCode;
  readonly where: string | undefined;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'OrchardError';
    this.code = code;
    this.where = details.where;
    this.hint = details.hint;
  }

  /** One human block: message, then where and what to do, each on its own line. */
  format(): string {
    const lines = [this.message];
    if (this.where) lines.push(`  where: ${this.where}`);
    if (this.hint) lines.push(`  fix:   ${this.hint}`);
    return lines.join('\n');
  }

  toJSON(): { code: ErrorCode; message: string; where?: string; hint?: string } {
    return {
      code: this.code,
      message: this.message,
      ...(this.where ? { where: this.where } : {}),
      ...(this.hint ? { hint: this.hint } : {}),
    };
  }
}

export function isOrchardError(err: unknown): err is OrchardError {
  return err instanceof OrchardError;
}

/** The message of anything thrown, for logs; never a stack. */
export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
