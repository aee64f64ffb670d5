import type { ServiceState } from '../../../engine/api/api-types.js';

const TONES: Record<ServiceState, string> = { stopped: 'muted', starting: 'warn', ready: 'good', unhealthy: 'bad', crashed: 'bad' };

export function ServiceStateBadge({ state }: { state: ServiceState }) {
  return (
    <span className={`badge ${TONES[state]} service-state`} data-state={state} role="status">
      {state}
    </span>
  );
}
