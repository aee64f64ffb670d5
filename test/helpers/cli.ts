import { execFile } from 'node:child_process';
import { detectConfinement } from '../../sandbox/confinement.js';
import { cliEntry } from './paths.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the compiled `orchard` CLI as a user would, with ORCHARD_HOME pointing at a test folder. */
export async function runCli(
  args: string[],
  opts: { home: string; env?: Record<string, string>; timeoutMs?: number; cwd?: string },
): Promise<CliResult> {
  // Where this machine cannot confine at all, tests that do not test confinement run unconfined, as
  // the user could choose to (the confinement tests themselves skip there, saying why).
  const unconfinable = (await detectConfinement()).available ? {} : { ORCHARD_NO_CONFINEMENT: '1' };
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cliEntry, ...args],
      {
        env: { ...process.env, ...unconfinable, ORCHARD_HOME: opts.home, NO_COLOR: '1', ...opts.env },
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 32 * 1024 * 1024,
        ...(opts.cwd ? { cwd: opts.cwd } : {}),
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export function parseJson<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`CLI did not print JSON (exit ${result.code}).\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
}
