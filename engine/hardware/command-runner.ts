import { execa } from 'execa';

/** What running one probe command gave: its stdout, or why there is none. */
export interface CommandResult {
  ok: boolean;
  stdout: string;
  /** Why it failed (not installed, exit code, timeout). */
  note?: string;
}

/** Runs a command (argv, never a shell string). Tests pass their own runner that returns captured text. */
export type RunCommand = (file: string, args: string[], options?: { timeoutMs?: number }) => Promise<CommandResult>;

export const runCommand: RunCommand = async (file, args, options = {}) => {
  try {
    const r = await execa(file, args, { reject: false, timeout: options.timeoutMs ?? 10_000, stdin: 'ignore', env: { LC_ALL: 'C' } });
    const stdout = typeof r.stdout === 'string' ? r.stdout : '';
    if (r.failed && stdout.trim() === '') {
      const why = r.timedOut ? 'timed out' : r.exitCode === undefined ? 'not found' : `exit ${r.exitCode}`;
      return { ok: false, stdout: '', note: `${file}: ${why}` };
    }
    // sysctl exits non-zero when one of several keys is unknown but still prints the others.
    return { ok: true, stdout, ...(r.failed ? { note: `${file}: exit ${r.exitCode ?? '?'}` } : {}) };
  } catch (err) {
    return { ok: false, stdout: '', note: `${file}: ${err instanceof Error ? err.message : String(err)}` };
  }
};
