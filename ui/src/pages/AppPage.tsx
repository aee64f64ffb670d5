import { Cpu, SearchX } from 'lucide-react';
import { useState } from 'react';
import type { CatalogResponse } from '../../../engine/api/api-types.js';
import { BackendBadge } from '../components/BackendBadge.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { InstallDialog } from '../components/InstallDialog.js';
import { JobProgress } from '../components/JobProgress.js';
import { LogView } from '../components/LogView.js';
import { LoraPanel } from '../components/LoraPanel.js';
import { MetricsPanel } from '../components/MetricsPanel.js';
import { ServiceControls } from '../components/ServiceControls.js';
import { StepList } from '../components/StepList.js';
import { TryIt } from '../components/TryIt.js';
import { TryMedia } from '../components/TryMedia.js';
import { UninstallDialog } from '../components/UninstallDialog.js';
import { SkeletonRows } from '../components/Skeleton.js';
import { stepTitle } from '../format.js';
import { useApiQuery } from '../hooks/useApiQuery.js';
import { useAppLive } from '../hooks/useAppLive.js';
import { routeHref } from '../hooks/useHashRoute.js';

type Dialog = 'install' | 'install-cpu' | 'update' | 'uninstall' | undefined;

export function AppPage({ id }: { id: string }) {
  const live = useAppLive(id);
  const catalog = useApiQuery<CatalogResponse>('/catalog');
  const [dialog, setDialog] = useState<Dialog>();
  const entry = catalog.data?.recipes.find((r) => r.id === id);
  const { app, job, status } = live;
  const name = app?.name ?? entry?.name ?? id;
  const jobRunning = job?.state === 'running';
  const installed = app && app.lifecycle === 'installed';
  const running = status && status.state !== 'stopped' && status.state !== 'crashed';
  const ready = installed && status?.state === 'ready';
  const serviceType = app?.serviceType;
  const cpuOnly = entry?.fit.allowCpuAccepts !== undefined && entry.fit.blockers.length === 1;

  // Not installed and no recipe by that id: a real not-found page, not an Install button.
  if (app === null && !job && catalog.data && !entry) return <NotFound id={id} />;

  return (
    <>
      <header className="page-header">
        <div>
          <p className="breadcrumb">
            <a href={routeHref({ page: app ? 'library' : 'catalog' })}>{app ? 'Library' : 'Catalog'}</a> /
          </p>
          <h1>
            {name} <span className={`kind kind-${app?.kind ?? entry?.kind ?? 'tool'}`}>{app?.kind ?? entry?.kind}</span>
          </h1>
          <p className="muted">
            {app ? `version ${app.version} · ${app.lifecycle}` : entry ? `version ${entry.version} · not installed` : ''}
            {entry?.description ? ` · ${entry.description}` : ''}
          </p>
        </div>
        <div className="actions">
          {(app === null || (app && app.lifecycle !== 'installed' && !jobRunning)) && (
            // Any lifecycle but "installed" with no job running means an install stopped half way: resume it.
            <button type="button" className="primary" disabled={jobRunning || (!app && cpuOnly)} onClick={() => setDialog('install')}>
              {app ? 'Resume install' : 'Install'}
            </button>
          )}
          {app === null && cpuOnly && (
            <button type="button" className="secondary install-anyway" disabled={jobRunning} onClick={() => setDialog('install-cpu')}>
              <Cpu size={14} aria-hidden="true" /> Install anyway (runs on CPU, slow)
            </button>
          )}
          {installed && (
            <button type="button" className="secondary" disabled={jobRunning || running} onClick={() => setDialog('update')}>
              Update
            </button>
          )}
          {app && (
            <button type="button" className="danger" disabled={jobRunning || running} onClick={() => setDialog('uninstall')}>
              Uninstall
            </button>
          )}
          {entry && (
            <a className="button secondary" href={routeHref({ page: 'editor', recipe: entry.id })}>
              View recipe
            </a>
          )}
        </div>
      </header>
      <ErrorBox error={live.error} />
      {app === undefined && !live.error && <SkeletonRows rows={4} label="Loading the app" />}
      {job && <JobProgress job={job} stepLogs={live.stepLogs} />}

      {app && (
        <div className="app-grid">
          <div className="app-main">
            {installed && app.hasService && status && (
              <section className="card" aria-labelledby="service-title">
                <h2 id="service-title">Service</h2>
                <ServiceControls appId={id} status={status} onStatus={live.setStatus} disabled={jobRunning} />
                {running && <MetricsPanel samples={live.metrics} {...(serviceType ? { serviceType } : {})} />}
              </section>
            )}
            {ready && (serviceType === 'llm' || serviceType === 'llm-cluster') && <TryIt appId={id} />}
            {ready && (serviceType === 'image' || serviceType === 'video') && (
              <TryMedia appId={id} media={serviceType} inputs={app.inputs} />
            )}
            {installed && serviceType === 'llm' && <LoraPanel appId={id} />}
            <section className="card" aria-labelledby="logs-title">
              <h2 id="logs-title">Live log</h2>
              <LogView lines={live.serviceLog} label={`${name} log`} />
            </section>
          </div>
          <aside className="app-side">
            <section className="card" aria-labelledby="backend-title">
              <h2 id="backend-title">Backend</h2>
              <BackendBadge verdict={app.verdict} allowCpu={app.allowCpu} />
            </section>
            {!jobRunning && (
              <section className="card" aria-labelledby="steps-title">
                <h2 id="steps-title">Install steps</h2>
                <StepList
                  steps={app.steps.map((s) => ({
                    key: s.key,
                    kind: s.kind,
                    title: s.title ?? stepTitle(s.kind),
                    status: s.status,
                    ...(s.error ? { message: s.error } : {}),
                    log: s.log ? s.log.split('\n') : (live.stepLogs[s.key] ?? []),
                  }))}
                />
              </section>
            )}
          </aside>
        </div>
      )}
      {app === null && !job && entry && (
        <section className="card">
          <h2>Not installed</h2>
          <p>
            Install shows the plan first: every file and its size, every command, the network hosts it contacts and any warning. Nothing
            runs until you confirm.
          </p>
        </section>
      )}

      {(dialog === 'install' || dialog === 'update' || dialog === 'install-cpu') && (
        <InstallDialog
          appId={id}
          recipe={entry?.file ?? id}
          operation={dialog === 'update' ? 'update' : 'install'}
          allowCpu={dialog === 'install-cpu' || app?.allowCpu === true}
          onStarted={live.setJob}
          onClose={() => setDialog(undefined)}
        />
      )}
      {dialog === 'uninstall' && <UninstallDialog appId={id} name={name} onStarted={live.setJob} onClose={() => setDialog(undefined)} />}
    </>
  );
}

function NotFound({ id }: { id: string }) {
  return (
    <section className="card empty-state not-found" aria-labelledby="not-found-title">
      <SearchX size={32} aria-hidden="true" />
      <h1 id="not-found-title">No app called “{id}”</h1>
      <p className="muted">It is not installed, and no recipe in the catalog has that id.</p>
      <p>
        <a className="button primary" href={routeHref({ page: 'library' })}>
          Go to your library
        </a>{' '}
        <a className="button secondary" href={routeHref({ page: 'catalog' })}>
          Browse the catalog
        </a>
      </p>
    </section>
  );
}
