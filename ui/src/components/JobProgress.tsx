import type { Job } from '../../../engine/api/api-types.js';
import { DownloadBar } from './DownloadBar.js';
import { ErrorBox } from './ErrorBox.js';
import { StepList } from './StepList.js';

/** A running (or just finished) install/update/uninstall: downloads with speed and ETA, then steps. */
export function JobProgress({ job, stepLogs }: { job: Job; stepLogs: Record<string, string[]> }) {
  const downloads = Object.values(job.downloads);
  const verb = { install: 'Installing', update: 'Updating', uninstall: 'Uninstalling' }[job.operation];
  const title = job.state === 'running' ? `${verb}…` : job.state === 'succeeded' ? `${job.operation} finished` : `${job.operation} failed`;
  return (
    <section className="card job" aria-labelledby="job-title" data-job-state={job.state}>
      <h2 id="job-title">{title}</h2>
      {job.error && <ErrorBox error={job.error} />}
      {downloads.length > 0 && (
        <div className="downloads" aria-label="Downloads">
          {downloads.map((d) => (
            <DownloadBar key={d.file} download={d} />
          ))}
        </div>
      )}
      <StepList steps={job.steps.map((s) => ({ ...s, log: stepLogs[s.key] ?? [] }))} />
    </section>
  );
}
