import type { PlanResponse } from '../../../engine/api/api-types.js';
import { formatBytes } from '../format.js';

type PlannedStep = PlanResponse['scripts']['install'][number];

/** What a plan will do, for a human to read before confirming: files, commands, hosts, warnings. */
export function PlanSummary({ plan, accepted }: { plan: PlanResponse; accepted?: string }) {
  const blockers = plan.blockers.filter((b) => b !== accepted);
  const steps = plan.scripts.install;
  const totalBytes = plan.weights.reduce((sum, w) => sum + (w.size ?? 0), 0);
  const unpinned = plan.weights.filter((w) => w.size === undefined).length;
  // No size pinned at all: the recipe's disk need (from the listed sizes) says more than "0 B".
  const diskGiB = plan.requirements.diskGiB;
  let totalText = `${formatBytes(totalBytes)}${unpinned > 0 ? ` + ${unpinned} of unknown size` : ''}`;
  if (unpinned === plan.weights.length && diskGiB !== undefined)
    totalText = `~${formatBytes(diskGiB * 1024 ** 3)} (the recipe's disk need)`;
  const commands = steps.filter((s) => s.kind === 'run');
  const warnings = [...plan.warnings, ...steps.flatMap((s) => s.effects.warnings.map((w) => `${s.title}: ${w}`))];
  return (
    <div className="plan-summary">
      {blockers.length > 0 && (
        <div className="error-box" role="alert">
          <strong>This recipe cannot be installed on {plan.profile.name}:</strong>
          <ul>
            {blockers.map((b) => (
              <li key={b}>{b}</li>
            ))}
          </ul>
        </div>
      )}
      <section>
        <h3>
          Files to download <span className="count">{plan.weights.length}</span>
        </h3>
        {plan.weights.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Size</th>
                <th scope="col">From</th>
              </tr>
            </thead>
            <tbody>
              {plan.weights.map((w) => (
                <tr key={w.id}>
                  <td>
                    <code>{w.file}</code>
                    {!w.pinned && <span className="badge warn small">unpinned</span>}
                    {w.auth && <span className="badge warn small">needs {w.auth} token</span>}
                  </td>
                  <td className="num">{formatBytes(w.size)}</td>
                  <td className="url">{w.url}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <tr>
                <th scope="row">Total</th>
                <td className="num">{totalText}</td>
                <td />
              </tr>
            </tfoot>
          </table>
        )}
      </section>
      <section>
        <h3>
          Steps <span className="count">{steps.length}</span>
        </h3>
        <ol className="plan-steps">
          {steps.map((step) => (
            <li key={step.key}>
              <span className="step-kind">{step.kind}</span> {step.title}
              <StepDetail step={step} />
            </li>
          ))}
        </ol>
      </section>
      <section>
        <h3>
          Commands it runs <span className="count">{commands.length}</span>
        </h3>
        {commands.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <ul className="commands">
            {commands.map((step) => (
              <li key={step.key}>
                <code>{commandLine(step)}</code>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section>
        <h3>Network hosts and permissions</h3>
        <ul className="chips">
          {plan.hosts.length === 0 ? (
            <li className="muted">No network access.</li>
          ) : (
            plan.hosts.map((h) => (
              <li key={h} className="chip">
                {h}
              </li>
            ))
          )}
        </ul>
        <p className="muted">
          Writes only inside <code>{plan.paths.root}</code> and the model store <code>{plan.paths.store}</code>.{' '}
          {plan.confinement.available
            ? `Commands are confined with ${plan.confinement.mechanism}.`
            : `Commands are not confined: ${plan.confinement.note}`}
        </p>
        {plan.unconfined.length > 0 && (
          <p className="validation-status bad">
            Cannot be confined on this machine: {plan.unconfined.join(', ')}. The install refuses them unless you accept the risk (
            <code>allowUnconfined</code>, or <code>orchard install --allow-unconfined</code>).
          </p>
        )}
        {plan.requirements.memoryGiB !== undefined && (
          <p className="muted">
            Needs {plan.requirements.memoryGiB} GiB memory and{' '}
            {plan.requirements.diskGiB !== undefined ? `${plan.requirements.diskGiB} GiB` : 'an unknown amount of'} disk
            {plan.requirements.tools.length > 0 ? `; tools: ${plan.requirements.tools.join(', ')}` : ''}.
          </p>
        )}
      </section>
      {warnings.length > 0 && (
        <section>
          <h3>Warnings</h3>
          <ul className="warnings">
            {warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}

function StepDetail({ step }: { step: PlannedStep }) {
  switch (step.kind) {
    case 'git':
      return <div className="step-detail">{`${step.params.url} @ ${step.params.ref}${step.params.pinned ? '' : ' (not pinned)'}`}</div>;
    case 'fetch':
      return <div className="step-detail">{step.params.weights.map((w) => w.file).join(', ')}</div>;
    case 'link':
      return <div className="step-detail">{`${step.params.weight.file} → ${step.params.to}`}</div>;
    case 'write':
      return <div className="step-detail">{step.params.path}</div>;
    case 'extract':
      return <div className="step-detail">{`${step.params.archive} → ${step.params.dest}`}</div>;
    case 'env':
      return (
        <div className="step-detail">
          {step.params.type === 'none'
            ? 'no environment: uses the tools already on this machine'
            : `${step.params.type} environment in ${step.params.dir}`}
        </div>
      );
    case 'verify':
      return <div className="step-detail">{`expects ${step.params.expect}`}</div>;
    default:
      return null;
  }
}

function commandLine(step: PlannedStep): string {
  if (step.kind !== 'run') return '';
  if (step.params.shell) return step.params.shellCommand ?? '';
  return (step.params.argv ?? []).map((arg) => (/[\s"'$]/.test(arg) ? JSON.stringify(arg) : arg)).join(' ');
}
