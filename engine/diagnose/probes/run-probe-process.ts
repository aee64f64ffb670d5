import { execa } from 'execa';
import { OrchardError } from '../../core/errors.js';

export interface ProbeProcessOptions {
  env: Record<string, string>;
  cwd?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Wraps the probe's argv before it starts (the verify step confines it: docs/confinement.md). */
  wrap?: (argv: string[]) => Promise<string[]>;
}

/** Run a probe command in the app's environment; stdout and stderr together, in order of arrival. */
export async function runProbeProcess(
  argv: readonly string[],
  o: ProbeProcessOptions,
): Promise<{ output: string; exitCode: number | undefined; timedOut: boolean }> {
  if (!argv[0]) throw new OrchardError('USAGE', 'empty probe command');
  const [file, ...args] = o.wrap ? await o.wrap([...argv]) : [...argv];
  if (!file) throw new OrchardError('USAGE', 'empty probe command');
  const r = await execa(file, args, {
    env: o.env,
    extendEnv: false,
    ...(o.cwd ? { cwd: o.cwd } : {}),
    timeout: o.timeoutMs,
    ...(o.signal ? { cancelSignal: o.signal } : {}),
    reject: false,
    all: true,
    stdin: 'ignore',
  });
  return { output: typeof r.all === 'string' ? r.all : '', exitCode: r.exitCode, timedOut: r.timedOut === true };
}

/** The JSON a probe script printed on its `ORCHARD_PROBE {…}` line. */
export function probeJson<T>(output: string): T | undefined {
  const line = output
    .split(/\r?\n/)
    .reverse()
    .find((l) => l.startsWith('ORCHARD_PROBE '));
  if (!line) return undefined;
  try {
    return JSON.parse(line.slice('ORCHARD_PROBE '.length)) as T;
  } catch {
    return undefined;
  }
}
