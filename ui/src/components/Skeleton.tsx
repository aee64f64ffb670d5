/** Placeholder shapes while data loads, so the page has its layout at once instead of a blank. */
export function SkeletonRows({ rows, label }: { rows: number; label: string }) {
  return (
    <div className="skeleton-list" role="status" aria-label={label} aria-busy="true">
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="skeleton skeleton-row" />
      ))}
    </div>
  );
}

export function SkeletonCards({ cards, label }: { cards: number; label: string }) {
  return (
    <div className="card-grid" role="status" aria-label={label} aria-busy="true">
      {Array.from({ length: cards }, (_, i) => (
        <div key={i} className="card skeleton-card">
          <div className="skeleton skeleton-line wide" />
          <div className="skeleton skeleton-line" />
          <div className="skeleton skeleton-line short" />
        </div>
      ))}
    </div>
  );
}
