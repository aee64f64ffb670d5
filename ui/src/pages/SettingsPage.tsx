import { useEffect, useState, type FormEvent } from 'react';
import type { Settings } from '../../../engine/api/api-types.js';
import { api } from '../api/client.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { useApiMutation } from '../hooks/useApiMutation.js';
import { useApiQuery } from '../hooks/useApiQuery.js';
import { setThemeChoice, themeChoice, type ThemeChoice } from '../theme.js';

/**
 * Settings. The Hugging Face token is write-only: the API only says whether one is set, and the
 * field is cleared after saving. In the desktop app it goes to the OS keychain (safeStorage).
 */
export function SettingsPage() {
  const settings = useApiQuery<Settings>('/settings');
  const [concurrency, setConcurrency] = useState('');
  const [hfToken, setHfToken] = useState('');
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<unknown>();
  const bridge = window.orchard;
  const [version, setVersion] = useState<string>();

  useEffect(() => {
    void bridge?.getVersion().then(setVersion);
  }, [bridge]);

  useEffect(() => {
    if (settings.data) setConcurrency(String(settings.data.concurrency));
  }, [settings.data]);

  const save = useApiMutation(
    (patch: Partial<{ concurrency: number; hfToken: string | null }>) => api('PUT /settings', { body: patch }),
    ['/settings'],
  );
  const put = async (patch: Partial<{ concurrency: number; hfToken: string | null }>, done: string) => {
    setError(undefined);
    setNotice(undefined);
    if ((await save.run(patch)) !== undefined) setNotice(done);
  };

  const saveToken = async (event: FormEvent, value: string | null) => {
    event.preventDefault();
    if (bridge) {
      const result = await bridge.setHfToken(value);
      setHfToken('');
      if (result.ok) setNotice(result.message ?? 'Token kept in the system keychain.');
      else setError(new Error(result.message ?? 'could not store the token'));
      return;
    }
    await put({ hfToken: value }, value ? 'Hugging Face token saved.' : 'Hugging Face token removed.');
    setHfToken('');
  };

  return (
    <div className="settings-page narrow-content">
      <header className="page-header">
        <h1>Settings</h1>
      </header>
      <ErrorBox error={settings.error ?? save.error ?? error} />
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      <AppearanceCard />
      {settings.data && (
        <>
          <section className="card" aria-labelledby="home-title">
            <h2 id="home-title">Home folder</h2>
            <p>
              <code className="path">{settings.data.home}</code>
            </p>
            <p className="muted">
              Apps, environments, the model store and logs live here. To use another folder, quit Orchard and start it with{' '}
              <code>ORCHARD_HOME=/path/to/folder</code>.
            </p>
          </section>
          <section className="card" aria-labelledby="hf-title">
            <h2 id="hf-title">Hugging Face token</h2>
            <p className="muted">
              Needed only for gated models. It is {settings.data.hfTokenSet ? <strong>set</strong> : <strong>not set</strong>}
              {bridge ? ' in orchard.json; the desktop app keeps its own copy in the system keychain' : ''}. It is never shown again once
              saved.
            </p>
            <form onSubmit={(e) => void saveToken(e, hfToken.trim())} className="inline-form">
              <label htmlFor="hf-token">New token</label>
              <input
                id="hf-token"
                type="password"
                autoComplete="off"
                value={hfToken}
                onChange={(e) => setHfToken(e.target.value)}
                placeholder="hf_…"
              />
              <button type="submit" className="primary" disabled={!hfToken.trim()}>
                Save token
              </button>
              <button
                type="button"
                className="secondary"
                disabled={!settings.data.hfTokenSet && !bridge}
                onClick={(e) => void saveToken(e, null)}
              >
                Remove
              </button>
            </form>
          </section>
          <section className="card" aria-labelledby="concurrency-title">
            <h2 id="concurrency-title">Concurrent installs</h2>
            <form
              className="inline-form"
              onSubmit={(e) => {
                e.preventDefault();
                void put({ concurrency: Number(concurrency) }, 'Concurrency saved.');
              }}
            >
              <label htmlFor="concurrency">Installs that may run at once</label>
              <input id="concurrency" type="number" min={1} max={16} value={concurrency} onChange={(e) => setConcurrency(e.target.value)} />
              <button type="submit" className="primary">
                Save
              </button>
            </form>
          </section>
          {version && <p className="muted">Orchard desktop {version}</p>}
        </>
      )}
    </div>
  );
}

/** Light, dark, or follow the system (the default); kept in this browser. */
function AppearanceCard() {
  const [choice, setChoice] = useState<ThemeChoice>(themeChoice);
  const choose = (next: ThemeChoice) => {
    setChoice(next);
    setThemeChoice(next);
  };
  const options: { value: ThemeChoice; label: string }[] = [
    { value: 'system', label: 'Follow the system' },
    { value: 'light', label: 'Light' },
    { value: 'dark', label: 'Dark' },
  ];
  return (
    <section className="card" aria-labelledby="appearance-title">
      <h2 id="appearance-title">Appearance</h2>
      <div className="segmented" role="radiogroup" aria-label="Theme">
        {options.map((o) => (
          <label key={o.value} className={choice === o.value ? 'selected' : ''}>
            <input type="radio" name="theme" value={o.value} checked={choice === o.value} onChange={() => choose(o.value)} /> {o.label}
          </label>
        ))}
      </div>
    </section>
  );
}
