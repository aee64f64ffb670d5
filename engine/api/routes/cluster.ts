import { clusterPaths, readHosts } from '../../cluster/hosts.js';
import type { ApiContext } from '../api-context.js';
import type { ClusterOverview } from '../api-types.js';

/** One running cluster app, as its head service reports it (GET /health of `service llm-cluster`). */
type ClusterRun = ClusterOverview['runs'][number];

/**
 * GET /cluster: the paired hosts (names, addresses, pinned fingerprints, budgets; Orchard's key
 * never leaves ORCHARD_HOME) and, for each running app whose service is a cluster head, its
 * per-node state with predicted and measured memory.
 */
export async function clusterOverview(ctx: ApiContext, signal?: AbortSignal): Promise<ClusterOverview> {
  const hosts = await readHosts(clusterPaths(ctx.home));
  const runs: ClusterRun[] = [];
  for (const s of ctx.supervisor.list()) {
    if (s.port === undefined || (s.state !== 'ready' && s.state !== 'starting' && s.state !== 'unhealthy')) continue;
    try {
      const res = await fetch(`http://127.0.0.1:${s.port}/health`, { signal: signal ?? AbortSignal.timeout(2000) });
      const health = (await res.json()) as ClusterRun['health'] & { engine?: unknown };
      if (health.engine === 'llama.cpp-rpc') runs.push({ app: s.app, health });
    } catch {
      // not a cluster head, or not answering: nothing to show for it
    }
  }
  return { hosts, runs, note: 'A cluster buys memory, not speed: decode runs at about single-node speed.' };
}
