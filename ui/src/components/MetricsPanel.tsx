import type { MetricsSample } from '../../../engine/api/api-types.js';
import { formatBytes } from '../format.js';
import { Sparkline } from './Sparkline.js';

/** Memory, CPU and throughput of the running service: the supervisor's samples, plus tokens/s from the service when the samples lack it. */
export function MetricsPanel({ samples, tokensPerSecond = [] }: { samples: MetricsSample[]; tokensPerSecond?: number[] }) {
  const recent = samples.slice(-120);
  const fromSamples = recent.filter((s) => s.tokensPerSecond !== undefined).map((s) => s.tokensPerSecond ?? 0);
  const tokens = fromSamples.length > 0 ? fromSamples : tokensPerSecond;
  const steps = recent.filter((s) => s.stepsPerSecond !== undefined).map((s) => s.stepsPerSecond ?? 0);
  const gpu = recent.filter((s) => s.gpuPercent !== undefined).map((s) => s.gpuPercent ?? 0);
  return (
    <div className="metrics">
      <Sparkline label="Memory" values={recent.map((s) => s.rssBytes)} format={formatBytes} />
      <Sparkline label="CPU" values={recent.map((s) => s.cpuPercent)} format={(v) => `${v.toFixed(0)}%`} />
      <Sparkline label="Tokens/s" values={tokens} format={(v) => v.toFixed(1)} />
      {steps.length > 0 && <Sparkline label="Steps/s" values={steps} format={(v) => v.toFixed(2)} />}
      {gpu.length > 0 && <Sparkline label="GPU" values={gpu} format={(v) => `${v.toFixed(0)}%`} />}
    </div>
  );
}
