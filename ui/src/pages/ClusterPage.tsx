import { useEffect } from 'react';
import type { ClusterOverview } from '../../../engine/api/api-types.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { formatBytes } from '../format.js';
import { useApiQuery } from '../hooks/useApiQuery.js';

type Run = ClusterOverview['runs'][number];
type Node = Run['health']['nodes'][number];

/**
 * The cluster: paired hosts with their link (SSH tunnel or direct cable, RTT, bandwidth from the
 * last `orchard cluster doctor`), and per-node memory bars of each running cluster model —
 * predicted by Orchard's fit against what llama.cpp allocated.
 */
export function ClusterPage() {
  const overview = useApiQuery<ClusterOverview>('/cluster');
  const { reload } = overview;
  useEffect(() => {
    const timer = setInterval(reload, 2000);
    return () => clearInterval(timer);
  }, [reload]);
  const data = overview.data;
  return (
    <>
      <header className="page-header">
        <h1>Cluster</h1>
      </header>
      <p className="note" role="note">
        More memory, not more speed: a model spread over several machines runs at about one machine&apos;s speed, because every token passes
        each node in turn.
      </p>
      <ErrorBox error={overview.error} />
      <section className="card" aria-labelledby="hosts-title">
        <h2 id="hosts-title">Hosts</h2>
        {data && data.hosts.length === 0 && (
          <p>
            No hosts yet. Pair one from a terminal: <code>orchard cluster add user@host</code>, then check it with{' '}
            <code>orchard cluster doctor</code>.
          </p>
        )}
        {data && data.hosts.length > 0 && (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col">Link</th>
                <th scope="col">RTT</th>
                <th scope="col">Bandwidth</th>
                <th scope="col">Gives models</th>
                <th scope="col">Engine</th>
              </tr>
            </thead>
            <tbody>
              {data.hosts.map((h) => (
                <tr key={h.name}>
                  <th scope="row">
                    {h.name}
                    <div className="muted">
                      {h.destination}:{h.port}
                    </div>
                  </th>
                  <td>
                    {h.direct ? (
                      <span className="danger">direct cable {h.direct.address} (no tunnel, unauthenticated)</span>
                    ) : (
                      'SSH tunnel (pinned key)'
                    )}
                  </td>
                  <td>{h.link?.rttMs !== undefined ? `${h.link.rttMs} ms` : 'not measured'}</td>
                  <td>{h.link?.mibPerSecond !== undefined ? `${h.link.mibPerSecond} MiB/s` : '—'}</td>
                  <td>{h.peer ? `${formatBytes(h.peer.budgetBytes)} (${h.peer.accelerator})` : 'unknown'}</td>
                  <td>{h.peer?.engine?.version ?? 'not installed'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {data?.runs.map((run) => (
        <RunCard key={run.app} run={run} />
      ))}
    </>
  );
}

function RunCard({ run }: { run: Run }) {
  const h = run.health;
  return (
    <section className="card" aria-labelledby={`run-${run.app}`}>
      <h2 id={`run-${run.app}`}>
        {run.app} <span className="muted">— {h.status}</span>
      </h2>
      {h.lastFailure && (
        <p className="muted">
          Last restart ({h.restarts}): {h.lastFailure}
        </p>
      )}
      <p className="muted">Split (-ts): {h.tensorSplit.join(', ')}</p>
      <ul className="node-bars">
        {h.nodes.map((n) => (
          <NodeBar key={n.name} node={n} />
        ))}
      </ul>
    </section>
  );
}

function NodeBar({ node }: { node: Node }) {
  const p = node.predicted;
  const measured = node.measured ? node.measured.model + node.measured.kv + node.measured.compute : undefined;
  const budget = p?.budgetBytes ?? 0;
  const pct = (bytes: number | undefined) => (bytes === undefined || budget <= 0 ? 0 : Math.min(100, (bytes / budget) * 100));
  return (
    <li className="node-bar" aria-label={`${node.name} memory`}>
      <div className="node-bar-label">
        <strong>{node.name}</strong> {node.role === 'head' ? '(head)' : ''} — {node.state}
        {p?.layers ? `, layers ${p.layers[0]}–${p.layers[1]}` : ''}
        {p?.output ? ' + output' : ''}
      </div>
      {p && (
        <>
          <div className="bar" title="predicted">
            <div className={`bar-fill ${p.fits ? '' : 'over'}`} style={{ width: `${pct(p.bytes.total)}%` }} />
          </div>
          <div className="muted">
            predicted {formatBytes(p.bytes.total)}
            {measured !== undefined ? `, llama.cpp allocated ${formatBytes(measured)}` : ''} of {formatBytes(budget)}
          </div>
          {measured !== undefined && (
            <div className="bar measured" title="measured">
              <div className="bar-fill" style={{ width: `${pct(measured)}%` }} />
            </div>
          )}
        </>
      )}
      {node.error && <div className="danger">{node.error}</div>}
    </li>
  );
}
