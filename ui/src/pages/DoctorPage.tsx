import { ErrorBox } from '../components/ErrorBox.js';
import { JsonTree } from '../components/JsonTree.js';
import { formatBytes } from '../format.js';
import { useApiQuery } from '../hooks/useApiQuery.js';

/**
 * The part of the doctor report this page draws as a card. Written here, not imported: the UI
 * knows the engine only through engine/api/api-types.ts, and the doctor report is not in it.
 */
interface MachineInfo {
  os: string;
  arch: string;
  model?: string;
  cpu: { brand: string; cores: number };
  memory: { totalBytes: number; availableBytes?: number };
  unifiedMemory: boolean;
  gpus: { name: string; vramBytes?: number; api?: string }[];
  accelerators: string[];
  macos?: { wiredLimitMb?: number; gpuWorkingSetBytes: number };
  sources: { name: string; ok: boolean; note?: string }[];
}

/** The rest of the doctor report (engine/hardware/doctor-report.ts), read defensively. */
interface DoctorExtras {
  budget?: { modelBytes: number; kind: string; explanation: string; wiredLimit?: { command?: string } };
  disk?: { path: string; freeBytes: number | null };
  recipes?: { id: string; name: string; ok: boolean; problems: string[] }[];
  problems?: { problem: string; fix: string }[];
}

/** The doctor: what this machine is, which accelerators Orchard can use, and what to fix. */
export function DoctorPage() {
  const report = useApiQuery<Record<string, unknown>>('/doctor');
  const machine = findMachine(report.data);
  const extras = (report.data ?? {}) as DoctorExtras;
  const problems = Array.isArray(extras.problems) ? extras.problems : [];
  const recipes = Array.isArray(extras.recipes) ? extras.recipes : [];
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
      {(extras.budget || extras.disk) && (
        <section className="card" aria-labelledby="budget-title">
          <h2 id="budget-title">Room for models</h2>
          <dl className="facts wide">
            {extras.budget && (
              <>
                <dt>Model memory</dt>
                <dd>
                  <strong>{formatBytes(extras.budget.modelBytes)}</strong> — {extras.budget.explanation}
                </dd>
              </>
            )}
            {extras.disk && (
              <>
                <dt>Free disk</dt>
                <dd>
                  {extras.disk.freeBytes === null ? 'unknown' : formatBytes(extras.disk.freeBytes)} at <code>{extras.disk.path}</code>
                </dd>
              </>
            )}
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
              </tr>
            </thead>
            <tbody>
              {recipes.map((r) => (
                <tr key={r.id}>
                  <td>{r.name}</td>
                  <td>{r.ok ? <span className="badge good">yes</span> : <span className="badge bad">no</span>}</td>
                  <td className="muted">{r.problems.join('; ')}</td>
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
            : machine.gpus.map((g) => `${g.name}${g.vramBytes ? ` (${formatBytes(g.vramBytes)})` : ''}${g.api ? ` · ${g.api}` : ''}`).join('; ')}
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
                {s.name}: {s.note ?? 'not readable'}
              </li>
            ))}
        </ul>
      )}
    </section>
  );
}

function isMachine(value: unknown): value is MachineInfo {
  const v = value as Partial<MachineInfo> | undefined;
  return typeof v === 'object' && v !== null && typeof v.os === 'string' && typeof v.cpu === 'object' && Array.isArray(v.accelerators) && Array.isArray(v.gpus);
}

/** The doctor report may be the MachineInfo itself or hold it under a key. */
function findMachine(report: Record<string, unknown> | undefined): MachineInfo | undefined {
  if (!report) return undefined;
  if (isMachine(report)) return report;
  return Object.values(report).find(isMachine);
}
