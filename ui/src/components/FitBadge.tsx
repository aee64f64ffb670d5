import type { FitSummary } from '../../../engine/api/api-types.js';

const LABELS: Record<FitSummary['verdict'], { text: string; tone: string }> = {
  fits: { text: 'Fits this machine', tone: 'good' },
  'fits-after-raising-limit': { text: 'Fits after raising the GPU memory limit', tone: 'warn' },
  'does-not-fit': { text: 'Does not fit this machine', tone: 'bad' },
  unknown: { text: 'Fit unknown', tone: 'muted' },
};

/** The verdict; a GPU recipe that only lacks the GPU here is "CPU only, slow", not red. */
export function FitBadge({ fit }: { fit: FitSummary }) {
  const cpuOnly = fit.verdict === 'does-not-fit' && fit.allowCpuAccepts !== undefined && fit.blockers.length === 1;
  const label = cpuOnly ? { text: 'CPU only here (slow)', tone: 'warn' } : LABELS[fit.verdict];
  return (
    <span className={`badge ${label.tone} fit-badge`} title={[...fit.blockers, ...fit.facts].join('\n')} data-verdict={fit.verdict}>
      {label.text}
    </span>
  );
}
