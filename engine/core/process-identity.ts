import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { isProcessAlive } from './process-alive.js';

/**
 * Who a process is, beyond its pid: pids are reused, so a lock or a record names its owner by pid
 * plus the moment that process started. Linux: field 22 of /proc/<pid>/stat (clock ticks since
 * boot); elsewhere `ps -o lstart=` (the start date, to the second).
 */
export interface ProcessIdentity {
  pid: number;
  /** Undefined only when the platform would not tell (the owner then counts as alive while its pid is). */
  start?: string;
}

/** Field 22 of a /proc/<pid>/stat line; fields are counted from the last `)` (the name may hold spaces and parentheses). */
export function startFromProcStat(text: string): string | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const value = rest[22 - 3];
  return value !== undefined && /^\d+$/.test(value) ? value : undefined;
}

/** When the process `pid` started, as an opaque string to compare; undefined when it does not exist or cannot be read. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (process.platform === 'linux') {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    return text === undefined ? undefined : startFromProcStat(text);
  }
  const result = await execa('ps', ['-o', 'lstart=', '-p', String(pid)], { reject: false, timeout: 5000, env: { LC_ALL: 'C' } });
  const text = String(result.stdout).trim();
  return result.exitCode === 0 && text !== '' ? text : undefined;
}

let self: Promise<ProcessIdentity> | undefined;

/** This process's identity (read once). */
export function selfIdentity(): Promise<ProcessIdentity> {
  self ??= processStartTime(process.pid).then((start) => ({ pid: process.pid, ...(start !== undefined ? { start } : {}) }));
  return self;
}

/**
 * Whether the process an identity names is still running: its pid exists and, when the identity
 * has a start time, the process with that pid now started at that same moment (not a reused pid).
 */
export async function isIdentityAlive(id: ProcessIdentity): Promise<boolean> {
  if (!Number.isInteger(id.pid) || id.pid <= 0 || !isProcessAlive(id.pid)) return false;
  if (id.start === undefined) return true;
  const now = await processStartTime(id.pid);
  // A live pid whose start cannot be read (it exited meanwhile, or the platform refuses): trust the pid.
  return now === undefined ? isProcessAlive(id.pid) : now === id.start;
}
