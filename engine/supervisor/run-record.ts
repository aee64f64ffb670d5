import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeJsonAtomic } from '../core/atomic-write.js';
import type { OrchardHome } from '../core/home.js';
import { findTooDeep } from '../core/json-depth.js';
import { terminateTree } from './kill-tree.js';
import { processIdentity, type ProcessIdentity } from './process-table.js';
import type { ServiceSpec } from './service-spec.js';

/**
 * What the supervisor persists per running app (ORCHARD_HOME/run/<app>.json, mode 0600, written
 * atomically) so that, when the server dies and starts again, it finds the app's process again (by
 * pid AND start time AND command line: a reused pid never matches), re-adopts it instead of
 * starting a second one, and `status` can tell the truth while no server runs.
 */
export interface RunRecord {
  schema: 1;
  app: string;
  pid: number;
  identity: ProcessIdentity;
  /** The value of ORCHARD_RUN_ID in every process of this run. */
  runId: string;
  port: number;
  run: number;
  restarts: number;
  startedAt: number;
  readyAt?: number;
  /** The per-run log file, and the spools the service writes its output into. */
  logFile: string;
  spools: { stdout: string; stderr: string };
  /** How it was started (health checks, stop grace, restart policy apply to an adopted run too). */
  spec: ServiceSpec;
  /** The server that launched it. */
  serverPid: number;
}

export function runRecordFile(dir: string, app: string): string {
  return path.join(dir, `${app}.json`);
}

export async function writeRunRecord(dir: string, record: RunRecord): Promise<void> {
  await writeJsonAtomic(runRecordFile(dir, record.app), record, 0o600);
}

/** Remove an app's record, only when it still describes this pid (a newer run may own it). */
export async function removeRunRecord(dir: string, app: string, pid: number): Promise<void> {
  const record = await readRunRecord(dir, app);
  if (record && record.pid !== pid) return;
  await rm(runRecordFile(dir, app), { force: true });
}

export async function readRunRecord(dir: string, app: string): Promise<RunRecord | undefined> {
  let text: string;
  try {
    text = await readFile(runRecordFile(dir, app), 'utf8');
  } catch {
    return undefined;
  }
  if (findTooDeep(text)) return undefined;
  try {
    const value = JSON.parse(text) as Partial<RunRecord>;
    const ok =
      value.schema === 1 &&
      value.app === app &&
      Number.isInteger(value.pid) &&
      typeof value.identity?.start === 'string' &&
      typeof value.identity.command === 'string' &&
      typeof value.runId === 'string' &&
      typeof value.port === 'number' &&
      typeof value.spec === 'object' &&
      Array.isArray(value.spec.argv) &&
      typeof value.logFile === 'string' &&
      typeof value.spools?.stdout === 'string' &&
      typeof value.spools.stderr === 'string';
    return ok ? (value as RunRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Every app with a record (valid or not: an unreadable one is returned as undefined and can be removed). */
export async function recordedApps(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => n.slice(0, -'.json'.length));
}

/** True when the recorded process still runs: same pid, same start time, same command line. */
export async function recordIsLive(record: RunRecord): Promise<boolean> {
  const now = await processIdentity(record.pid);
  return now !== undefined && now.start === record.identity.start && now.command === record.identity.command;
}

/** The record of an app whose process still runs, or undefined (no record, or its process is gone). */
export async function liveRunRecord(dir: string, app: string): Promise<RunRecord | undefined> {
  const record = await readRunRecord(dir, app);
  return record && (await recordIsLive(record)) ? record : undefined;
}

/** Where run records live: ORCHARD_HOME/run (outside every app folder, so no app can forge its own). */
export function runRecordDir(home: OrchardHome): string {
  return path.join(home.root, 'run');
}

/**
 * Stop a recorded run while no server runs (`orchard stop` after a server crash): its whole tree,
 * found by process group, parent links and the run's marker. Resolves with the record it stopped.
 */
export async function stopRecordedRun(dir: string, app: string): Promise<RunRecord | undefined> {
  const record = await liveRunRecord(dir, app);
  if (!record) return undefined;
  await terminateTree(record.pid, new Map(), record.spec.stopGraceMs, record.runId);
  await removeRunRecord(dir, app, record.pid);
  await Promise.all([rm(record.spools.stdout, { force: true }), rm(record.spools.stderr, { force: true })]);
  return record;
}
