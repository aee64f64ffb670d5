import type { DoctorReport } from '../../../engine/api/api-types.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { JsonTree } from '../components/JsonTree.js';
import { formatBytes } from '../format.js';
import { useApiQuery } from '../hooks/useApiQuery.js';

type MachineInfo = DoctorReport['machine'];

/** The doctor: what this machine is, which accelerators Orchard can use, and what to fix. */
export function DoctorPage() {
  const report = useApiQuery<DoctorReport>('/doctor');
  const data = report.data;
  const machine = data?.machine;
  const problems = data?.problems ?? [];
  const recipes = data?.recipes ?? [];
  return (
    <>
      <header className="page-header">
        <h1>Doctor</h1>
        <div className="actions">
          <button type="button" className="secondary" onClick={report.reload} disabled={report.loading}>
            {report.loading ? 'Checking…' : 'Check again'}
          </button>
        </div>
      </header>
      <ErrorBox error={report.error} />
      {machine && <MachineCard machine={machine} />}
      {data && (
        <section className="card" aria-labelledby="budget-title">
          <h2 id="budget-title">Room for models</h2>
          <dl className="facts wide">
            <dt>Model memory</dt>
            <dd>
              <strong>{formatBytes(data.budget.modelBytes)}</strong> — {data.budget.explanation}
            </dd>
            <dt>Free disk</dt>
            <dd>
              {data.disk.freeBytes === null ? 'unknown' : formatBytes(data.disk.freeBytes)} at <code>{data.disk.path}</code>
            </dd>
          </dl>
        </section>
      )}
      {report.data && (
        <section className="card" aria-labelledby="problems-title">
          <h2 id="problems-title">Problems and fixes</h2>
          {problems.length === 0 ? (
            <p className="validation-status ok">✓ Nothing to fix.</p>
          ) : (
            <ul className="checks">
              {problems.map((p, i) => (
                <li key={i} className="check">
                  <span className="badge warn">problem</span> {p.problem}
                  <div className="hint">Fix: {p.fix}</div>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      {recipes.length > 0 && (
        <section className="card" aria-labelledby="fit-title">
          <h2 id="fit-title">Recipes on this machine</h2>
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Recipe</th>
                <th scope="col">Runs here?</th>
                <th scope="col">Why not</th>
                <th scope="col">What to do</th>
              </tr>
            </thead>
            <tbody>
              {recipes.map((r) => (
                <tr key={r.id}>
                  <td>{r.name}</td>
                  <td>{r.ok ? <span className="badge good">yes</span> : <span className="badge bad">no</span>}</td>
                  <td className="muted">{r.problems.join('; ')}</td>
                  <td className="muted">{r.fixes.join(' ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {report.data && (
        <section className="card">
          <details open={!machine}>
            <summary>Full report (JSON)</summary>
            <JsonTree value={report.data} />
          </details>
        </section>
      )}
    </>
  );
}

function MachineCard({ machine }: { machine: MachineInfo }) {
  return (
    <section className="card" aria-labelledby="machine-title">
      <h2 id="machine-title">This machine</h2>
      <dl className="facts wide">
        <dt>System</dt>
        <dd>
          {machine.os} {machine.arch}
          {machine.model ? ` · ${machine.model}` : ''}
        </dd>
        <dt>CPU</dt>
        <dd>
          {machine.cpu.brand} · {machine.cpu.cores} cores
        </dd>
        <dt>Memory</dt>
        <dd>
          {formatBytes(machine.memory.totalBytes)} total
          {machine.memory.availableBytes !== undefined ? `, ${formatBytes(machine.memory.availableBytes)} available` : ''}
          {machine.unifiedMemory ? ' (unified with the GPU)' : ''}
        </dd>
        <dt>GPUs</dt>
        <dd>
          {machine.gpus.length === 0
            ? 'none found'
            : machine.gpus
                .map((g) => `${g.name}${g.vramBytes ? ` (${formatBytes(g.vramBytes)})` : ''}${g.api ? ` · ${g.api}` : ''}`)
                .join('; ')}
        </dd>
        <dt>Accelerators</dt>
        <dd className="chips">
          {machine.accelerators.map((a) => (
            <span key={a} className={`chip accel-${a}`}>
              {a}
            </span>
          ))}
        </dd>
        {machine.macos && (
          <>
            <dt>GPU memory limit</dt>
            <dd>
              {formatBytes(machine.macos.gpuWorkingSetBytes)}
              {machine.macos.wiredLimitMb ? ` (iogpu.wired_limit_mb=${machine.macos.wiredLimitMb})` : ''}
            </dd>
          </>
        )}
      </dl>
      {machine.sources.some((s) => !s.ok) && (
        <ul className="sources">
          {machine.sources
            .filter((s) => !s.ok)
            .map((s) => (
              <li key={s.name} className="muted">
                {s.name}: {(s.note ?? 'not readable').replace(`${s.name}: `, '')}
              </li>
            ))}
        </ul>
      )}
    </section>
  );
}
