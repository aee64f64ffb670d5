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

interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail' | 'info';
  message?: string;
  hint?: string;
}

/** The doctor: what this machine is, which accelerators Orchard can use, and what to fix. */
export function DoctorPage() {
  const report = useApiQuery<Record<string, unknown>>('/doctor');
  const machine = findMachine(report.data);
  const checks = findChecks(report.data);
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
      {checks.length > 0 && (
        <section className="card" aria-labelledby="checks-title">
          <h2 id="checks-title">Checks</h2>
          <ul className="checks">
            {checks.map((check, i) => (
              <li key={i} className={`check ${check.status}`}>
                <span className={`badge ${toneOf(check.status)}`}>{check.status}</span> <strong>{check.name}</strong>
                {check.message && <span> — {check.message}</span>}
                {check.hint && <div className="hint">{check.hint}</div>}
              </li>
            ))}
          </ul>
        </section>
      )}
      {report.data && (
        <section className="card">
          <details open={!machine && checks.length === 0}>
            <summary>Full report</summary>
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

function findChecks(report: Record<string, unknown> | undefined): Check[] {
  const raw = report?.['checks'];
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((item): Check[] => {
    if (typeof item !== 'object' || item === null) return [];
    const c = item as Record<string, unknown>;
    const name = str(c['name']) ?? str(c['title']) ?? str(c['id']) ?? 'check';
    const status = normaliseStatus(c['status'] ?? c['ok'] ?? c['level']);
    const message = str(c['message']) ?? str(c['detail']) ?? str(c['value']);
    const hint = str(c['hint']) ?? str(c['fix']) ?? str(c['advice']);
    return [{ name, status, ...(message ? { message } : {}), ...(hint ? { hint } : {}) }];
  });
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function normaliseStatus(v: unknown): Check['status'] {
  if (v === true || v === 'ok' || v === 'pass') return 'ok';
  if (v === false || v === 'fail' || v === 'error') return 'fail';
  if (v === 'warn' || v === 'warning') return 'warn';
  return 'info';
}

function toneOf(status: Check['status']): string {
  return { ok: 'good', warn: 'warn', fail: 'bad', info: 'muted' }[status];
}
