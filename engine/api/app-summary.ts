import type { Verdict } from '../diagnose/verdict.js';
import type { AppState } from '../install/app-state.js';
import type { AppSummary, ServiceStatus } from './api-types.js';

/** An installed app as the API and `orchard status` show it: its state plus what is running now. */
export function appSummary(
  state: AppState,
  now: { service: ServiceStatus; hasService: boolean; serviceType?: AppSummary['serviceType']; verdict?: Verdict },
): AppSummary {
  const verdict = now.verdict ?? state.verdict;
  return {
    id: state.id,
    name: state.recipe.name,
    kind: state.recipe.kind,
    version: state.recipe.version,
    lifecycle: state.lifecycle,
    inputs: state.inputs,
    ...(verdict ? { verdict } : {}),
    allowCpu: state.allowCpu === true,
    service: now.service,
    hasService: now.hasService,
    ...(now.serviceType !== undefined ? { serviceType: now.serviceType } : {}),
    steps: Object.entries(state.journal).map(([key, j]) => ({
      key,
      kind: j.kind,
      ...(j.title ? { title: j.title } : {}),
      status: j.status,
      ...(j.error ? { error: j.error.message } : {}),
      ...(j.error?.log ? { log: j.error.log } : {}),
    })),
  };
}
