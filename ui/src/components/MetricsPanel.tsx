import type { AppSummary, MetricsSample } from '../../../engine/api/api-types.js';
import { formatBytes } from '../format.js';
import { Sparkline } from './Sparkline.js';

/**
 * Memory, CPU and throughput of the running service, all from the API's samples (it reads the
 * service's own speed: tokens/s for LLMs, steps/s for image and video while a job samples).
 */
export function MetricsPanel({ samples, serviceType }: { samples: MetricsSample[]; serviceType?: AppSummary['serviceType'] }) {
  const recent = samples.slice(-120);
  // From the first measured speed on, a sample without one is idle time: the line falls to zero.
  const series = (pick: (s: MetricsSample) => number | undefined): number[] => {
    const first = recent.findIndex((s) => pick(s) !== undefined);
    return first < 0 ? [] : recent.slice(first).map((s) => pick(s) ?? 0);
  };
  const tokens = series((s) => s.tokensPerSecond);
  const steps = series((s) => s.stepsPerSecond);
  const gpu = recent.filter((s) => s.gpuPercent !== undefined).map((s) => s.gpuPercent ?? 0);
  const media = serviceType === 'image' || serviceType === 'video';
  return (
    <div className="metrics">
      <Sparkline label="Memory" values={recent.map((s) => s.rssBytes)} format={formatBytes} />
      <Sparkline label="CPU" values={recent.map((s) => s.cpuPercent)} format={(v) => `${v.toFixed(0)}%`} />
      {(serviceType === 'llm' || tokens.length > 0) && <Sparkline label="Tokens/s" values={tokens} format={(v) => v.toFixed(1)} />}
      {(media || steps.length > 0) && <Sparkline label="Steps/s" values={steps} format={(v) => v.toFixed(2)} />}
      {gpu.length > 0 && <Sparkline label="GPU" values={gpu} format={(v) => `${v.toFixed(0)}%`} />}
    </div>
  );
}
