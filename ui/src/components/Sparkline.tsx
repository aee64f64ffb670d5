/** A tiny inline SVG line chart: enough to see a trend, no chart library. */
export function Sparkline({ values, label, format }: { values: number[]; label: string; format: (v: number) => string }) {
  const width = 240;
  const height = 56;
  const last = values.at(-1);
  const max = Math.max(1e-9, ...values);
  const points = values.map((v, i) => {
    const x = values.length === 1 ? width : (i / (values.length - 1)) * width;
    const y = height - 4 - (v / max) * (height - 8);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  return (
    <figure className="sparkline">
      <figcaption>
        {label}: <strong>{last === undefined ? '—' : format(last)}</strong>
        {values.length > 1 && <span className="muted"> (peak {format(max)})</span>}
      </figcaption>
      <svg
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
        role="img"
        aria-label={`${label} over the last ${values.length} samples`}
      >
        <rect x="0" y="0" width={width} height={height} className="spark-bg" />
        {points.length > 1 && <polyline points={points.join(' ')} className="spark-line" fill="none" />}
        {points.length > 0 && <circle cx={points.at(-1)?.split(',')[0]} cy={points.at(-1)?.split(',')[1]} r="3" className="spark-dot" />}
      </svg>
    </figure>
  );
}
