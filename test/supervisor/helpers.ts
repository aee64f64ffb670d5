import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AppStatus } from '../../engine/supervisor/app-status.js';
import type { ServiceSpec } from '../../engine/supervisor/service-spec.js';
import type { Supervisor } from '../../engine/supervisor/supervisor.js';
import { repoRoot } from '../helpers/paths.js';

/** The fixture service (a node script, not compiled). */
export const fixtureService = path.join(repoRoot, 'test', 'supervisor', 'fixtures', 'service.mjs');

/** A spec that runs the fixture with `args`, HTTP readiness on /health, no restarts, short timeouts. */
export function fixtureSpec(logDir: string, args: string[], overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    argv: [process.execPath, fixtureService, '--port', '{{port}}', ...args],
    cwd: logDir,
    env: { PATH: process.env['PATH'] ?? '' },
    readiness: { http: '/health', timeoutMs: 8000 },
    restart: { policy: 'never', maxRestarts: 0, backoffMs: 100 },
    stopGraceMs: 1000,
    logDir,
    ...overrides,
  };
}

/** Resolve with the first status of `app` that satisfies `test`, or reject after `timeoutMs`. */
export function waitForStatus(
  supervisor: Supervisor,
  app: string,
  test: (s: AppStatus) => boolean,
  timeoutMs = 10_000,
): Promise<AppStatus> {
  return new Promise((resolve, reject) => {
    const current = supervisor.status(app);
    if (test(current)) return resolve(current);
    const timer = setTimeout(() => {
      supervisor.off('status', listener);
      reject(new Error(`timed out waiting for a status of ${app}; last: ${JSON.stringify(supervisor.status(app))}`));
    }, timeoutMs);
    const listener = (status: AppStatus): void => {
      if (status.app !== app || !test(status)) return;
      clearTimeout(timer);
      supervisor.off('status', listener);
      resolve(status);
    };
    supervisor.on('status', listener);
  });
}

/** True while a process with this pid exists and is not a zombie. */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') return true;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return stat !== '' && state !== 'Z';
}

/** Pids printed by the fixture as "GRANDCHILD <pid>". */
export function grandchildPids(supervisor: Supervisor, app: string): number[] {
  return supervisor
    .logs(app)
    .map((l) => /^GRANDCHILD (\d+)$/.exec(l.line)?.[1])
    .filter((p): p is string => p !== undefined)
    .map(Number);
}

/** Kill leftovers by pid if a test failed half way (never by name). */
export function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
