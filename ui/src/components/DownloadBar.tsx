import type { Job } from '../../../engine/api/api-types.js';
import { formatBytes, formatSeconds } from '../format.js';

type Download = Job['downloads'][string];

/**
 * One download: a real <progress> (so screen readers announce it), speed and ETA. Download events
 * name the weight by id; `fileName` is the plan's file for it, shown instead when known.
 */
export function DownloadBar({ download, fileName }: { download: Download; fileName?: string | undefined }) {
  const name = fileName ?? download.file;
  const total = download.bytesTotal;
  const percent = total ? Math.min(100, (download.bytesDone / total) * 100) : undefined;
  return (
    <div className={`download ${download.done ? 'done' : ''}`} data-weight={download.file} data-file={name}>
      <div className="download-head">
        <code title={name === download.file ? undefined : `weight "${download.file}"`}>{name}</code>
        <span className="download-figures">
          {formatBytes(download.bytesDone)} / {formatBytes(total)}
          {download.done ? ' — done' : ` — ${formatBytes(download.bytesPerSecond)}/s, ETA ${formatSeconds(download.etaSeconds)}`}
        </span>
      </div>
      <progress max={100} value={download.done ? 100 : percent} aria-label={`Download of ${name}`} />
    </div>
  );
}
