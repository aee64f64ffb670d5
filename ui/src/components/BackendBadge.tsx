import type { AppSummary } from '../../../engine/api/api-types.js';

type Verdict = NonNullable<AppSummary['verdict']>;

/**
 * The backend verdict (DESIGN §5): which backend really runs the work, with the log lines that
 * decided it. A CPU fallback is shown red with its advice — never as a quiet success.
 */
export function BackendBadge({ verdict, allowCpu }: { verdict: Verdict | undefined; allowCpu?: boolean }) {
  if (!verdict) return <div className="backend unknown">Backend not checked yet.</div>;
  const tone =
    verdict.fallback === 'full'
      ? allowCpu
        ? 'warn'
        : 'bad'
      : verdict.fallback === 'partial'
        ? 'warn'
        : verdict.backend === 'unknown'
          ? 'muted'
          : 'good';
  const fallbackText =
    verdict.fallback === 'none' ? 'no fallback' : verdict.fallback === 'partial' ? 'partial CPU fallback' : 'full CPU fallback';
  return (
    <section className={`backend ${tone}`} aria-label="Backend verdict">
      <div className="backend-head">
        <span className={`badge ${tone} backend-name`} data-backend={verdict.backend}>
          {verdict.backend.toUpperCase()}
        </span>
        <span>{fallbackText}</span>
        {verdict.offload && (
          <span className="muted">
            {verdict.offload.layers}/{verdict.offload.total} layers offloaded
          </span>
        )}
        {allowCpu && verdict.fallback !== 'none' && <span className="muted">(CPU accepted)</span>}
      </div>
      {verdict.evidence.length > 0 && (
        <>
          <h4>Evidence</h4>
          <ul className="evidence">
            {verdict.evidence.map((line, i) => (
              <li key={i}>
                <code>{line}</code>
              </li>
            ))}
          </ul>
        </>
      )}
      {verdict.advice.length > 0 && (
        <>
          <h4>What to do</h4>
          <ul className="advice">
            {verdict.advice.map((line, i) => (
              <li key={i}>{line}</li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
