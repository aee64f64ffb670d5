import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeJsonAtomic } from '../core/atomic-write.js';
import type { OrchardHome } from '../core/home.js';
import { isProcessAlive } from '../core/process-alive.js';

/** ORCHARD_HOME/server.json: where the running `orchard serve` listens, so the CLI can find it. */
export interface ServerInfo {
  port: number;
  pid: number;
  startedAt: string;
}

export function serverInfoFile(home: OrchardHome): string {
  return path.join(home.root, 'server.json');
}

export async function writeServerInfo(home: OrchardHome, info: ServerInfo): Promise<void> {
  await writeJsonAtomic(serverInfoFile(home), info, 0o600);
}

/** Remove server.json, but only when it still describes this process (a newer server may own it). */
export async function removeServerInfo(home: OrchardHome, pid = process.pid): Promise<void> {
  const info = await readServerInfo(home);
  if (info?.pid === pid) await rm(serverInfoFile(home), { force: true });
}

export async function readServerInfo(home: OrchardHome): Promise<ServerInfo | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(serverInfoFile(home), 'utf8'));
    if (typeof value !== 'object' || value === null) return undefined;
    const { port, pid, startedAt } = value as Record<string, unknown>;
    if (typeof port !== 'number' || typeof pid !== 'number') return undefined;
    return { port, pid, startedAt: typeof startedAt === 'string' ? startedAt : '' };
  } catch {
    return undefined;
  }
}

/** server.json when its process is still alive; a stale file (crashed server) counts as none. */
export async function liveServerInfo(home: OrchardHome): Promise<ServerInfo | undefined> {
  const info = await readServerInfo(home);
  if (!info) return undefined;
  return isProcessAlive(info.pid) ? info : undefined;
}
