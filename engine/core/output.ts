import { isOrchardError, OrchardError } from './errors.js';

/**
 * How every command reports: `--json` prints one JSON document on stdout; otherwise human text.
 * Exit codes (DESIGN §7): 0 ok, 1 a user-facing error (one clear message, no stack), 2 usage.
 */
export interface OutputOptions {
  json?: boolean;
}

let stdoutClosed = false;
const closedListeners = new Set<() => void>();

/**
 * `orchard … | head`: once the reader is gone (EPIPE), output is dropped quietly and the command
 * finishes what it does (an install still journals every step and ends in a correct state);
 * commands that only print forever (`logs -f`) stop through `onStdoutClosed`. No stack trace.
 */
export function guardStdio(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    if (stdoutClosed) return;
    stdoutClosed = true;
    for (const listener of closedListeners) listener();
  });
  // Errors go to stderr; when that is gone too there is nobody left to tell.
  process.stderr.on('error', () => undefined);
}

/** Call `listener` once stdout's reader has gone away; returns the unsubscribe function. */
export function onStdoutClosed(listener: () => void): () => void {
  if (stdoutClosed) {
    listener();
    return () => undefined;
  }
  closedListeners.add(listener);
  return () => closedListeners.delete(listener);
}

function write(text: string): void {
  if (stdoutClosed || process.stdout.destroyed) return;
  process.stdout.write(text);
}

export function printJson(value: unknown): void {
  write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(text = ''): void {
  write(`${text}\n`);
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
