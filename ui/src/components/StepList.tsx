import { formatDuration } from '../format.js';

export interface StepRow {
  key: string;
  kind: string;
  title: string;
  status: 'pending' | 'running' | 'done' | 'skipped' | 'failed';
  elapsedMs?: number;
  message?: string;
  /** Lines of this step's log (live, or the journal's tail). */
  log: string[];
}

const ICONS: Record<StepRow['status'], string> = { pending: '○', running: '◌', done: '✓', skipped: '–', failed: '✕' };

/** The install steps in order, each with its status and its own log behind a disclosure. */
export function StepList({ steps }: { steps: StepRow[] }) {
  if (steps.length === 0) return <p className="muted">No steps yet.</p>;
  return (
    <ol className="step-list">
      {steps.map((step) => (
        <li key={step.key} className={`step status-${step.status}`} data-step={step.key} data-status={step.status}>
          <details open={step.status === 'failed'}>
            <summary>
              <span className="step-icon" aria-hidden="true">
                {ICONS[step.status]}
              </span>
              <span className="step-title">{step.title}</span>
              <span className="step-kind">{step.kind}</span>
              <span className="step-status">{step.status}</span>
              <span className="step-time">{formatDuration(step.elapsedMs)}</span>
            </summary>
            {step.message && <p className="step-message">{step.message}</p>}
            {step.log.length > 0 ? <pre className="log small">{step.log.join('\n')}</pre> : <p className="muted small">No log lines.</p>}
          </details>
        </li>
      ))}
    </ol>
  );
}
