import type { CatalogEntry } from '../../../engine/api/api-types.js';
import { formatBytes, formatGiB } from '../format.js';
import { routeHref } from '../hooks/useHashRoute.js';
import { FitBadge } from './FitBadge.js';

/** One catalog entry: what it is, what it costs, and whether this machine can run it. */
export function RecipeCard({ entry }: { entry: CatalogEntry }) {
  return (
    <article className="card recipe-card" aria-labelledby={`card-${entry.id}`}>
      <header>
        <h2 id={`card-${entry.id}`}>
          <a href={routeHref({ page: 'app', id: entry.id })}>{entry.name}</a>
        </h2>
        <span className={`kind kind-${entry.kind}`}>{entry.kind}</span>
      </header>
      {entry.description && <p className="description">{entry.description}</p>}
      <dl className="facts">
        <dt>Download</dt>
        <dd>{entry.downloadBytes === undefined ? 'size not pinned' : formatBytes(entry.downloadBytes)}</dd>
        <dt>Needs</dt>
        <dd>
          {formatGiB(entry.memoryGiB)} memory, {formatGiB(entry.diskGiB)} disk
        </dd>
        {entry.model && (
          <>
            <dt>Engine</dt>
            <dd className="chips">
              <span className={`chip engine-${entry.model.engine}`}>{entry.model.engine === 'mlx' ? 'MLX' : 'GGUF'}</span>
              {entry.model.others.map((o) => (
                <a key={o.id} className="chip chip-link" href={routeHref({ page: 'app', id: o.id })} title={o.name}>
                  also {o.engine === 'mlx' ? 'MLX' : 'GGUF'}
                </a>
              ))}
            </dd>
          </>
        )}
        <dt>Runs on</dt>
        <dd className="chips">
          {entry.accelerators.length === 0 ? <span className="chip">any</span> : entry.accelerators.map((a) => <span key={a} className={`chip accel-${a}`}>{a}</span>)}
        </dd>
      </dl>
      <footer>
        <FitBadge fit={entry.fit} />
        <span className="source">{entry.source === 'user' ? 'your recipe' : 'bundled'}</span>
        {entry.installed && <span className={`badge lifecycle-${entry.installed}`}>{entry.installed}</span>}
      </footer>
      {entry.fit.reasons.length > 0 && (
        <ul className="fit-reasons">
          {entry.fit.reasons.slice(0, 3).map((reason) => (
            <li key={reason}>{reason}</li>
          ))}
        </ul>
      )}
    </article>
  );
}
