import { useCallback, useEffect, useState } from 'react';
import type { GatewayInfo, GatewayLoadedModel } from '../../../engine/api/api-types.js';
import { api, ApiFailure } from '../api/client.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { formatBytes, formatSeconds } from '../format.js';

const REFRESH_MS = 2000;

/**
 * The gateway's loaded models (what `orchard ps` prints): where clients point, the memory budget,
 * and per model its memory (predicted and measured), keep-alive left, queue and speed, with an
 * Unload button. Self-contained: it polls GET /api/v1/gateway while shown.
 */
export function ModelsPage() {
  const [info, setInfo] = useState<GatewayInfo>();
  const [error, setError] = useState<ApiFailure>();
  const [busy, setBusy] = useState<string>();
  const [now, setNow] = useState(() => Date.now());

  const load = useCallback(async (signal?: AbortSignal) => {
    try {
      setInfo(await api<GatewayInfo>('GET', '/gateway', undefined, signal));
      setError(undefined);
      setNow(Date.now());
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') return;
      setError(err instanceof ApiFailure ? err : new ApiFailure(0, 'UI', String(err)));
    }
  }, []);

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    const timer = setInterval(() => void load(controller.signal), REFRESH_MS);
    return () => {
      clearInterval(timer);
      controller.abort();
    };
  }, [load]);

  const unload = async (id: string) => {
    setBusy(id);
    try {
      const answer = await api<{ gateway: GatewayInfo }>('POST', `/gateway/models/${encodeURIComponent(id)}/unload`, {});
      setInfo(answer.gateway);
      setError(undefined);
    } catch (err) {
      setError(err instanceof ApiFailure ? err : new ApiFailure(0, 'UI', String(err)));
    } finally {
      setBusy(undefined);
    }
  };

  return (
    <>
      <header className="page-header">
        <h1>Models</h1>
      </header>
      <ErrorBox error={error} />
      {info && !info.enabled && (
        <section className="card">
          <p>The gateway is off{info.reason ? `: ${info.reason}` : ''}.</p>
        </section>
      )}
      {info?.enabled && (
        <section className="card" aria-labelledby="gateway-title">
          <h2 id="gateway-title">One endpoint for every installed model</h2>
          <dl className="facts wide">
            <dt>OpenAI clients</dt>
            <dd>
              <code data-testid="openai-url">{info.openaiBaseUrl}</code>
            </dd>
            <dt>Ollama clients</dt>
            <dd>
              <code data-testid="ollama-url">{info.ollamaBaseUrl}</code>
            </dd>
            <dt>Access</dt>
            <dd>{info.authRequired ? 'API key required (gateway.apiKey)' : 'no key needed from this machine'}</dd>
            <dt>Memory budget</dt>
            <dd>
              {formatBytes(info.usedBytes)} of {formatBytes(info.budgetBytes)} in use; idle models unload after {info.defaultKeepAlive}
            </dd>
          </dl>
        </section>
      )}
      {info?.enabled && (
        <section className="card" aria-labelledby="loaded-title">
          <h2 id="loaded-title">Loaded models</h2>
          {info.models.length === 0 ? (
            <p className="muted">No model is loaded. The first request for a model loads it.</p>
          ) : (
            <table className="table" aria-label="Loaded models">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">State</th>
                  <th scope="col">Memory (predicted / measured)</th>
                  <th scope="col">Unloads in</th>
                  <th scope="col">Running / queued</th>
                  <th scope="col">Requests</th>
                  <th scope="col">Tokens/s</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {info.models.map((m) => (
                  <ModelRow key={m.id} model={m} now={now} busy={busy === m.id} onUnload={() => void unload(m.id)} />
                ))}
              </tbody>
            </table>
          )}
        </section>
      )}
    </>
  );
}

function ModelRow({ model: m, now, busy, onUnload }: { model: GatewayLoadedModel; now: number; busy: boolean; onUnload: () => void }) {
  const left = m.expiresAt !== undefined ? formatSeconds((m.expiresAt - now) / 1000) : m.keepAlive;
  return (
    <tr data-model={m.id}>
      <td>
        <strong>{m.id}</strong>
        <div className="muted">{m.name}</div>
      </td>
      <td>
        <span className={`badge ${m.state === 'ready' ? 'good' : 'warn'}`}>{m.state}</span>
        {m.startedBy === 'user' && <span className="badge small muted">started by hand</span>}
      </td>
      <td>
        {formatBytes(m.predictedBytes)} / {m.measuredBytes !== undefined ? formatBytes(m.measuredBytes) : '—'}
      </td>
      <td>{left}</td>
      <td>
        {m.active} / {m.queued}
      </td>
      <td>{m.requests}</td>
      <td>{m.tokensPerSecond !== undefined ? m.tokensPerSecond.toFixed(1) : '—'}</td>
      <td>
        {m.state !== 'unloading' && (
          <button type="button" className="secondary" onClick={onUnload} disabled={busy} aria-label={`Unload ${m.id}`}>
            {busy ? 'Unloading…' : 'Unload'}
          </button>
        )}
      </td>
    </tr>
  );
}
