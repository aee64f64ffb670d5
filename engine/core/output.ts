import { isOrchardError, OrchardError } from './errors.js';

/**
 * How every command reports: `--json` prints one JSON document on stdout; otherwise human text.
 * Exit codes (DESIGN §7): 0 ok, 1 a user-facing error (one clear message, no stack), 2 usage.
 */
export interface OutputOptions {
  json?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** Print an error the way users should see it and set the exit code. */
export function reportError(err: unknown, opts: OutputOptions = {}): void {
  if (err instanceof OrchardError || isOrchardError(err)) {
    const code = err.code === 'USAGE' ? 2 : 1;
    if (opts.json) printJson({ ok: false, error: err.toJSON() });
    else process.stderr.write(`error: ${err.format()}\n`);
    process.exitCode = code;
    return;
  }
  // Not an OrchardError: a bug. Show the stack so it can be reported.
  process.stderr.write(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}

/** Wrap a command's action so errors become messages and exit codes, never stack traces. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void) {
  return async (...args: A): Promise<void> => {
    const last = args[args.length - 2];
    const json = typeof last === 'object' && last !== null && 'json' in last && (last as { json?: unknown }).json === true;
    try {
      await fn(...args);
    } catch (err) {
      reportError(err, { json });
    }
  };
}
