import type { ServiceStatus } from '../../../engine/api/api-types.js';
import { api } from '../api/client.js';
import { useApiMutation } from '../hooks/useApiMutation.js';
import { ErrorBox } from './ErrorBox.js';
import { ServiceStateBadge } from './ServiceStateBadge.js';

/** Start / Stop / Open for an installed app's service. */
export function ServiceControls({
  appId,
  status,
  onStatus,
  disabled,
}: {
  appId: string;
  status: ServiceStatus;
  onStatus: (s: ServiceStatus) => void;
  disabled: boolean;
}) {
  const action = useApiMutation((what: 'start' | 'stop') => api(`POST /apps/:id/${what}`, { params: { id: appId } }), ['/apps']);
  const act = async (what: 'start' | 'stop') => {
    const next = await action.run(what);
    if (next) onStatus(next);
  };
  const busy = action.busy;
  const error = action.error;
  const running = status.state === 'ready' || status.state === 'starting' || status.state === 'unhealthy';
  return (
    <div className="service-controls">
      <ServiceStateBadge state={status.state} />
      {status.port !== undefined && <span className="muted">port {status.port}</span>}
      {status.restarts > 0 && <span className="muted">{status.restarts} restarts</span>}
      {running ? (
        <button type="button" className="secondary" disabled={busy || disabled} onClick={() => void act('stop')}>
          Stop
        </button>
      ) : (
        <button type="button" className="primary" disabled={busy || disabled} onClick={() => void act('start')}>
          Start
        </button>
      )}
      {status.url && status.state === 'ready' && (
        <a className="button secondary" href={status.url} target="_blank" rel="noopener noreferrer">
          Open ↗
        </a>
      )}
      {status.message && <span className="muted service-message">{status.message}</span>}
      <ErrorBox error={error} />
    </div>
  );
}
