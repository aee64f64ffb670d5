import { readdir, readFile, readlink } from 'node:fs/promises';

/**
 * Linux only: who listens on a TCP port? Returns 'ours' when a listening socket on that port belongs
 * to one of `pids`, 'foreign' when it belongs to someone else, 'unknown' when it cannot be told
 * (not Linux, no listener found, /proc unreadable). This is how a service answering on "its" port
 * is told apart from another program that grabbed the port first.
 */
export async function portOwner(port: number, pids: number[]): Promise<'ours' | 'foreign' | 'unknown'> {
  if (process.platform !== 'linux') return 'unknown';
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const inode of listeningInodes(text, port)) inodes.add(inode);
  }
  if (inodes.size === 0) return 'unknown';
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) return 'ours';
    }
  }
  return 'foreign';
}

/** Inodes of sockets in LISTEN state (0A) on `port`, from /proc/net/tcp{,6}. */
export function listeningInodes(procNetTcp: string, port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const out: string[] = [];
  for (const line of procNetTcp.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    const local = cols[1];
    if (!local || cols[3] !== '0A') continue;
    if (local.slice(local.lastIndexOf(':') + 1).toUpperCase() === hexPort && cols[9]) out.push(cols[9]);
  }
  return out;
}
