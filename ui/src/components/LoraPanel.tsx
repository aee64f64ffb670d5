import { useEffect } from 'react';
import type { LoraPoint, LoraProgress, LoraRunsResponse } from '../../../engine/api/api-types.js';
import { useApiQuery } from '../hooks/useApiQuery.js';

/**
 * LoRA trainings of an MLX app (`orchard lora <app> --data <folder>`): train and validation loss
 * per iteration as a small SVG chart, with tokens/s and peak memory. Polls while one runs.
 */
export function LoraPanel({ appId }: { appId: string }) {
  const query = useApiQuery<LoraRunsResponse>(`/apps/${encodeURIComponent(appId)}/lora`);
  const runs = query.data?.runs ?? [];
  const running = runs.some((r) => r.state === 'running');
  const { reload } = query;
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(reload, 3000);
    return () => clearInterval(timer);
  }, [running, reload]);
  if (runs.length === 0) return null;
  return (
    <section className="card" aria-labelledby="lora-title">
      <h2 id="lora-title">LoRA training</h2>
      {runs.map((run) => (
        <LoraRun key={run.name} run={run} />
      ))}
    </section>
  );
}

function LoraRun({ run }: { run: LoraProgress }) {
  const last = [...run.points].reverse().find((p) => p.trainLoss !== undefined);
  const lastVal = [...run.points].reverse().find((p) => p.valLoss !== undefined);
  return (
    <figure className="lora-run" data-state={run.state}>
      <figcaption>
        <strong>{run.name}</strong> · {run.state} · saved at {run.savedIteration}/{run.totalIters}
        {last?.tokensPerSec !== undefined && <> · {last.tokensPerSec.toFixed(0)} tokens/s</>}
        {last?.peakMemGB !== undefined && <> · peak {last.peakMemGB.toFixed(1)} GB</>}
        {lastVal?.valLoss !== undefined && <> · val loss {lastVal.valLoss.toFixed(3)}</>}
        {run.error && <span className="muted"> · {run.error}</span>}
      </figcaption>
      <LossChart points={run.points} total={run.totalIters} />
    </figure>
  );
}

/** Train loss (line) and validation loss (dots) against the iteration. */
export function LossChart({ points, total }: { points: LoraPoint[]; total: number }) {
  const width = 360;
  const height = 120;
  const pad = 6;
  const losses = points.flatMap((p) => [p.trainLoss, p.valLoss]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const max = Math.max(1e-9, ...losses);
  const x = (it: number) => pad + (it / Math.max(total, 1)) * (width - 2 * pad);
  const y = (v: number) => height - pad - (v / max) * (height - 2 * pad);
  const train = points
    .filter((p) => p.trainLoss !== undefined)
    .map((p) => `${x(p.iteration).toFixed(1)},${y(p.trainLoss ?? 0).toFixed(1)}`);
  const val = points.filter((p) => p.valLoss !== undefined);
  return (
    <svg
      viewBox={`0 0 ${width} ${height}`}
      width={width}
      height={height}
      role="img"
      aria-label={`loss over ${total} iterations: ${train.length} train and ${val.length} validation points`}
    >
      <rect x="0" y="0" width={width} height={height} className="spark-bg" />
      {train.length > 1 && <polyline points={train.join(' ')} className="spark-line" fill="none" />}
      {val.map((p) => (
        <circle key={p.iteration} cx={x(p.iteration)} cy={y(p.valLoss ?? 0)} r="3" className="spark-dot" />
      ))}
    </svg>
  );
}
