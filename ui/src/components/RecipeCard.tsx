import { Cpu, HardDrive, MemoryStick, Download, CircleAlert } from 'lucide-react';
import type { CatalogEntry } from '../../../engine/api/api-types.js';
import { formatBytes, formatGiB } from '../format.js';
import { routeHref } from '../hooks/useHashRoute.js';
import { FitBadge } from './FitBadge.js';

/** What the download costs, honestly: pinned sizes, what the installer fetches itself, or "unknown". */
export function downloadText(entry: CatalogEntry): string {
  const weights = entry.downloadBytes;
  if (weights !== undefined && weights > 0)
    return entry.fetchesMore ? `${formatBytes(weights)} + what its installer fetches` : formatBytes(weights);
  if (entry.fetchesMore)
    return entry.diskGiB !== undefined
      ? `fetched by its installer (up to ${formatGiB(entry.diskGiB)} on disk)`
      : 'fetched by its installer; size unknown';
  if (weights === 0) return 'nothing to download';
  // Sizes come from the hub at download: the recipe's disk need (from the listed sizes) is the best figure.
  return entry.diskGiB !== undefined ? `~${formatGiB(entry.diskGiB)} (sizes not pinned)` : 'unknown (sizes not pinned)';
}

/** One catalog entry: what it is, what it costs, and — only when something stands in the way — why not here. */
export function RecipeCard({ entry }: { entry: CatalogEntry }) {
  const blockers = entry.fit.blockers;
  return (
    <article className="card recipe-card" aria-labelledby={`card-${entry.id}`} data-recipe={entry.id}>
      <header>
        <h2 id={`card-${entry.id}`}>
          <a href={routeHref({ page: 'app', id: entry.id })}>{entry.name}</a>
        </h2>
        <span className={`kind kind-${entry.kind}`}>{entry.kind}</span>
      </header>
      {entry.description && <p className="description">{entry.description}</p>}
      <ul className="card-facts" aria-label="Needs">
        <li title="Download">
          <Download size={14} aria-hidden="true" /> {downloadText(entry)}
        </li>
        {entry.memoryGiB !== undefined && (
          <li title="Memory">
            <MemoryStick size={14} aria-hidden="true" /> {formatGiB(entry.memoryGiB)}
          </li>
        )}
        {entry.diskGiB !== undefined && (
          <li title="Disk">
            <HardDrive size={14} aria-hidden="true" /> {formatGiB(entry.diskGiB)}
          </li>
        )}
        <li title="Runs on">
          <Cpu size={14} aria-hidden="true" /> {entry.accelerators.length === 0 ? 'any' : entry.accelerators.join(' · ')}
        </li>
        {entry.model && (
          <li title="Engine" className="chips">
            <span className={`chip engine-${entry.model.engine}`}>{entry.model.engine === 'mlx' ? 'MLX' : 'GGUF'}</span>
            {entry.model.others.map((o) => (
              <a key={o.id} className="chip chip-link" href={routeHref({ page: 'app', id: o.id })} title={o.name}>
                also {o.engine === 'mlx' ? 'MLX' : 'GGUF'}
              </a>
            ))}
          </li>
        )}
      </ul>
      {blockers.length > 0 && (
        <ul className="fit-blockers">
          {blockers.slice(0, 2).map((reason) => (
            <li key={reason}>
              <CircleAlert size={14} aria-hidden="true" />{' '}
              {reason === entry.fit.allowCpuAccepts ? 'Needs a GPU; can run on this CPU, slowly.' : reason}
            </li>
          ))}
        </ul>
      )}
      <footer>
        <FitBadge fit={entry.fit} />
        <span className="source">{entry.source === 'user' ? 'your recipe' : 'bundled'}</span>
        {entry.installed && <span className={`badge lifecycle-${entry.installed}`}>{entry.installed}</span>}
      </footer>
    </article>
  );
}
