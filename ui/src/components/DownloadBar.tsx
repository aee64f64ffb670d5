import type { Job } from '../../../engine/api/api-types.js';
import { formatBytes, formatSeconds } from '../format.js';

type Download = Job['downloads'][string];

/** One download: a real <progress> (so screen readers announce it), speed and ETA. */
export function DownloadBar({ download }: { download: Download }) {
  const total = download.bytesTotal;
  const percent = total ? Math.min(100, (download.bytesDone / total) * 100) : undefined;
  return (
    <div className={`download ${download.done ? 'done' : ''}`} data-file={download.file}>
      <div className="download-head">
        <code>{download.file}</code>
        <span className="download-figures">
          {formatBytes(download.bytesDone)} / {formatBytes(total)}
          {download.done ? ' — done' : ` — ${formatBytes(download.bytesPerSecond)}/s, ETA ${formatSeconds(download.etaSeconds)}`}
        </span>
      </div>
      <progress max={100} value={download.done ? 100 : percent} aria-label={`Download of ${download.file}`} />
    </div>
  );
}
