import type { Job } from '../../../engine/api/api-types.js';
import { DownloadBar } from './DownloadBar.js';
import { ErrorBox } from './ErrorBox.js';
import { StepList } from './StepList.js';

/** A running (or just finished) install/update/uninstall: downloads with speed and ETA, then steps. */
export function JobProgress({ job, stepLogs }: { job: Job; stepLogs: Record<string, string[]> }) {
  const downloads = Object.values(job.downloads);
  const verb = { install: 'Installing', update: 'Updating', uninstall: 'Uninstalling' }[job.operation];
  const noun = { install: 'Install', update: 'Update', uninstall: 'Uninstall' }[job.operation];
  const title = job.state === 'running' ? `${verb}…` : job.state === 'succeeded' ? `${noun} finished` : `${noun} failed`;
  return (
    <section className="card job" aria-labelledby="job-title" data-job-state={job.state} data-job-operation={job.operation}>
      {/* A finished job folds away (one line); running and failed ones stay open. */}
      <details open={job.state !== 'succeeded'}>
        <summary>
          <h2 id="job-title">{title}</h2>
        </summary>
        {job.error && <ErrorBox error={job.error} />}
        {downloads.length > 0 && (
          <div className="downloads" aria-label="Downloads">
            {downloads.map((d) => (
              <DownloadBar key={d.file} download={d} fileName={job.weightFiles?.[d.file]} />
            ))}
          </div>
        )}
        <StepList steps={job.steps.map((s) => ({ ...s, log: stepLogs[s.key] ?? [] }))} />
      </details>
    </section>
  );
}
