import type { FitSummary } from '../../../engine/api/api-types.js';

const LABELS: Record<FitSummary['verdict'], { text: string; tone: string }> = {
  fits: { text: 'Fits this machine', tone: 'good' },
  'fits-after-raising-limit': { text: 'Fits after raising the GPU memory limit', tone: 'warn' },
  'does-not-fit': { text: 'Does not fit this machine', tone: 'bad' },
  unknown: { text: 'Fit unknown', tone: 'muted' },
};

export function FitBadge({ fit }: { fit: FitSummary }) {
  const label = LABELS[fit.verdict];
  return (
    <span className={`badge ${label.tone}`} title={fit.reasons.join('\n')}>
      {label.text}
    </span>
  );
}
