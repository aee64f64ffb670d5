import { ExternalLink, Play, Square, LibraryBig, Loader2 } from 'lucide-react';
import { useState } from 'react';
import type { AppSummary, Job, ServiceStatus } from '../../../engine/api/api-types.js';
import { api } from '../api/client.js';
import { apiKey, queryClient } from '../api/queries.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { SkeletonRows } from '../components/Skeleton.js';
import { formatBytes } from '../format.js';
import { useApiQuery } from '../hooks/useApiQuery.js';
import { routeHref } from '../hooks/useHashRoute.js';
import { useLatestMetrics } from '../hooks/useLatestMetrics.js';

/** What the Library shows for an app: installing, failed, or its service's state. */
export type LibraryState = 'installing' | 'failed' | 'running' | 'starting' | 'stopped' | 'crashed' | 'installed';

export function libraryState(app: AppSummary, job: Job | undefined): LibraryState {
  if (job?.state === 'running' || app.lifecycle === 'installing' || app.lifecycle === 'updating' || app.lifecycle === 'uninstalling')
    return 'installing';
  if (app.lifecycle === 'failed') return 'failed';
  if (!app.hasService) return 'installed';
  switch (app.service.state) {
    case 'ready':
    case 'unhealthy':
      return 'running';
    case 'starting':
      return 'starting';
    case 'crashed':
      return 'crashed';
    default:
      return 'stopped';
  }
}

const STATE_TONE: Record<LibraryState, string> = {
  installing: 'warn',
  failed: 'bad',
  running: 'good',
  starting: 'warn',
  stopped: 'muted',
  crashed: 'bad',
  installed: 'good',
};

/**
 * The Library: every installed app, whatever recipe it came from (bundled, yours, a file), with
 * its state, backend, memory and port, and start / stop / open one click away.
 */
export function LibraryPage() {
  const apps = useApiQuery<{ apps: AppSummary[] }>('/apps');
  const jobs = useApiQuery<{ jobs: Job[] }>('/jobs');
  const metrics = useLatestMetrics();
  const runningJob = (id: string) => jobs.data?.jobs.find((j) => j.app === id && j.state === 'running');
  const list = apps.data?.apps ?? [];
  const running = list.filter((a) => libraryState(a, runningJob(a.id)) === 'running').length;
  return (
    <>
      <header className="page-header">
        <div>
          <h1>Library</h1>
          <p className="muted">{apps.data ? `${list.length} installed · ${running} running` : 'Your installed apps'}</p>
        </div>
        <div className="actions">
          <a className="button secondary" href={routeHref({ page: 'catalog' })}>
            Browse the catalog
          </a>
        </div>
      </header>
      <ErrorBox error={apps.error} />
      {!apps.data && !apps.error && <SkeletonRows rows={3} label="Loading your apps" />}
      {apps.data && list.length === 0 && (
        <section className="card empty-state">
          <LibraryBig aria-hidden="true" size={32} />
          <h2>Nothing installed yet</h2>
          <p className="muted">
            Pick an app in the <a href={routeHref({ page: 'catalog' })}>catalog</a>, or write your own in the{' '}
            <a href={routeHref({ page: 'editor' })}>recipe editor</a>.
          </p>
        </section>
      )}
      {list.length > 0 && (
        <ul className="library-list" aria-label="Installed apps">
          {list.map((app) => (
            <LibraryRow key={app.id} app={app} state={libraryState(app, runningJob(app.id))} rssBytes={metrics[app.id]?.rssBytes} />
          ))}
        </ul>
      )}
    </>
  );
}

function LibraryRow({ app, state, rssBytes }: { app: AppSummary; state: LibraryState; rssBytes: number | undefined }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const act = async (what: 'start' | 'stop') => {
    setBusy(true);
    setError(undefined);
    try {
      await api<ServiceStatus>('POST', `/apps/${encodeURIComponent(app.id)}/${what}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
      void queryClient.invalidateQueries({ queryKey: apiKey('/apps') });
    }
  };
  const backend = app.verdict?.backend;
  const canRun = app.lifecycle === 'installed' && app.hasService;
  const up = state === 'running' || state === 'starting';
  return (
    <li className="library-row card" data-app={app.id} data-state={state}>
      <div className="library-main">
        <a className="library-name" href={routeHref({ page: 'app', id: app.id })}>
          {app.name}
        </a>
        <span className={`kind kind-${app.kind}`}>{app.kind}</span>
        <span className={`badge ${STATE_TONE[state]} library-state`}>
          {state === 'installing' && <Loader2 className="spin" size={12} aria-hidden="true" />} {state}
        </span>
        {backend && (
          <span
            className={`badge ${app.verdict?.fallback === 'none' ? 'good' : app.allowCpu ? 'warn' : 'bad'} backend-chip`}
            data-backend={backend}
            title="Backend verdict"
          >
            {backend.toUpperCase()}
          </span>
        )}
      </div>
      <div className="library-facts muted">
        <span title="Resident memory of the service">{rssBytes !== undefined ? formatBytes(rssBytes) : '—'}</span>
        <span title="Port">{up && app.service.port !== undefined ? `:${app.service.port}` : '—'}</span>
        <span>v{app.version}</span>
      </div>
      <div className="library-actions">
        {canRun && !up && (
          <button type="button" className="primary" disabled={busy} onClick={() => void act('start')} aria-label={`Start ${app.name}`}>
            <Play size={14} aria-hidden="true" /> Start
          </button>
        )}
        {canRun && up && (
          <button type="button" className="secondary" disabled={busy} onClick={() => void act('stop')} aria-label={`Stop ${app.name}`}>
            <Square size={14} aria-hidden="true" /> Stop
          </button>
        )}
        {app.service.url && app.service.state === 'ready' && (
          <a className="button secondary" href={app.service.url} target="_blank" rel="noopener noreferrer" aria-label={`Open ${app.name}`}>
            <ExternalLink size={14} aria-hidden="true" /> Open
          </a>
        )}
        {!app.service.url && (
          <a className="button secondary" href={routeHref({ page: 'app', id: app.id })}>
            Details
          </a>
        )}
      </div>
      <ErrorBox error={error} />
    </li>
  );
}
