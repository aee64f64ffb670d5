import { markedPids, markedPidsSync, processTree, readProcessTable, type ProcessEntry } from './process-table.js';

/** pid → start time (Linux) of every process ever seen in a service's tree. */
export type KnownPids = Map<number, number | undefined>;

/** Add the tree's processes, and forget known pids that are gone (or reused by another process). */
export function remember(known: KnownPids, tree: ProcessEntry[], table?: ProcessEntry[]): void {
  if (table) {
    const alive = new Map(table.filter((p) => p.state !== 'Z').map((p) => [p.pid, p.startTime]));
    for (const [pid, start] of known) {
      if (!alive.has(pid) || (start !== undefined && alive.get(pid) !== start)) known.delete(pid);
    }
  }
  for (const p of tree) known.set(p.pid, p.startTime);
}

function signalAll(rootPid: number, tree: ProcessEntry[], signal: NodeJS.Signals): void {
  // The whole process group first (the service leads it: it was spawned detached)…
  try {
    process.kill(-rootPid, signal);
  } catch {
    // ESRCH: the group is already empty.
  }
  // …then whatever left the group (setsid, setpgid) but is still in the tree.
  for (const p of tree) {
    if (p.pgid === rootPid || p.pid === process.pid) continue;
    try {
      process.kill(p.pid, signal);
    } catch {
      // Already gone.
    }
  }
}

async function liveTree(rootPid: number, known: KnownPids, runId?: string): Promise<ProcessEntry[]> {
  const [table, marked] = await Promise.all([readProcessTable(), runId ? markedPids(runId) : Promise.resolve([])]);
  const tree = processTree(table, rootPid, known);
  // What carries the run's marker belongs to it too, wherever it went (setsid, double fork).
  const inTree = new Set(tree.map((p) => p.pid));
  const markedSet = new Set(marked);
  for (const p of table)
    if (markedSet.has(p.pid) && !inTree.has(p.pid) && p.state !== 'Z')
      tree.push(...processTree(table, p.pid, new Map()).filter((q) => !inTree.has(q.pid)));
  remember(known, tree, table);
  return [...new Map(tree.map((p) => [p.pid, p])).values()].filter((p) => p.pid !== process.pid);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Stop a service's whole process tree: SIGTERM to its group and to every known descendant, wait up
 * to `graceMs` for all of them to go, then SIGKILL what is left. Resolves with the pids that
 * survived even SIGKILL (normally none).
 */
export async function terminateTree(rootPid: number, known: KnownPids, graceMs: number, runId?: string): Promise<number[]> {
  let tree = await liveTree(rootPid, known, runId);
  if (tree.length === 0) return [];
  signalAll(rootPid, tree, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
    tree = await liveTree(rootPid, known, runId);
    if (tree.length === 0) return [];
  }
  signalAll(rootPid, tree, 'SIGKILL');
  const killDeadline = Date.now() + 3000;
  while (Date.now() < killDeadline) {
    await sleep(50);
    tree = await liveTree(rootPid, known, runId);
    if (tree.length === 0) return [];
    signalAll(rootPid, tree, 'SIGKILL');
  }
  return tree.map((p) => p.pid);
}

/** Last resort when Orchard itself exits: SIGKILL every group and known pid, synchronously. */
export function killSync(rootPid: number, known: KnownPids, runId?: string): void {
  for (const target of [-rootPid, ...known.keys(), ...(runId ? markedPidsSync(runId) : [])]) {
    if (target === process.pid) continue;
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // Gone.
    }
  }
}
