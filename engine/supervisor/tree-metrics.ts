import { linuxConstants, readStatmRss, type ProcessEntry } from './process-table.js';

export interface TreeMetrics {
  /** CPU of the whole tree, in percent of one core (like top: 2 busy cores = 200). */
  cpuPercent: number;
  rssBytes: number;
  processes: number;
}

/**
 * CPU percent needs two readings: this keeps the previous CPU time per process (keyed by pid and
 * start time, so a reused pid starts over) and turns the difference into a percentage.
 */
export class TreeCpuMeter {
  private previous = new Map<string, { ticks: number; at: number }>();

  async measure(tree: ProcessEntry[], now = performance.now()): Promise<TreeMetrics> {
    if (process.platform !== 'linux') {
      return {
        cpuPercent: tree.reduce((sum, p) => sum + (p.cpuPercent ?? 0), 0),
        rssBytes: tree.reduce((sum, p) => sum + p.rssBytes, 0),
        processes: tree.length,
      };
    }
    const { pageSize, ticksPerSecond } = await linuxConstants();
    const next = new Map<string, { ticks: number; at: number }>();
    let cpuSeconds = 0;
    let rssBytes = 0;
    let elapsed = 0;
    for (const p of tree) {
      const key = `${p.pid}:${p.startTime ?? ''}`;
      const ticks = p.cpuTicks ?? 0;
      const before = this.previous.get(key);
      if (before) {
        cpuSeconds += Math.max(0, ticks - before.ticks) / ticksPerSecond;
        elapsed = Math.max(elapsed, (now - before.at) / 1000);
      }
      next.set(key, { ticks, at: now });
      rssBytes += (await readStatmRss(p.pid, pageSize)) ?? p.rssBytes;
    }
    this.previous = next;
    return { cpuPercent: elapsed > 0 ? (cpuSeconds / elapsed) * 100 : 0, rssBytes, processes: tree.length };
  }
}
