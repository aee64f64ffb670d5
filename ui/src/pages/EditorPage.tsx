import { useEffect, useMemo, useRef, useState } from 'react';
import type { Job, PlanResponse } from '../../../engine/api/api-types.js';
import { api, ApiFailure } from '../api/client.js';
import { CodeEditor, type CodeEditorHandle } from '../components/CodeEditor.js';
import { ErrorBox } from '../components/ErrorBox.js';
import { InstallDialog } from '../components/InstallDialog.js';
import { PlanSummary } from '../components/PlanSummary.js';
import { ValidationList } from '../components/ValidationList.js';
import { useDebouncedValidation } from '../hooks/useDebouncedValidation.js';
import { routeHref } from '../hooks/useHashRoute.js';
import { STARTER_RECIPE } from '../starter-recipe.js';

const PROFILES = ['host', 'darwin-arm64-metal', 'linux-x64-cuda', 'linux-x64-cpu'] as const;

/**
 * The recipe editor: validation as you type with each error at its line, a plan preview per
 * platform profile, save to the user recipes folder, and install from the saved file.
 */
export function EditorPage({ recipe }: { recipe?: string }) {
  const [text, setText] = useState(STARTER_RECIPE);
  const [loadError, setLoadError] = useState<unknown>();
  const [saved, setSaved] = useState<{ id: string; file: string; text: string }>();
  const [profile, setProfile] = useState<(typeof PROFILES)[number]>('host');
  const [plan, setPlan] = useState<PlanResponse>();
  const [plannedText, setPlannedText] = useState<string>();
  const [previewError, setPreviewError] = useState<unknown>();
  const [previewing, setPreviewing] = useState(false);
  const [actionError, setActionError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const editor = useRef<CodeEditorHandle>(null);
  const validation = useDebouncedValidation(text);
  const valid = validation.result?.ok === true && !validation.checking;
  const dirty = saved?.text !== text;
  const marks = useMemo(
    () =>
      (validation.result?.errors ?? []).flatMap((e) =>
        e.line !== undefined
          ? [
              {
                line: e.line,
                message: e.message,
                ...(e.column !== undefined ? { column: e.column } : {}),
                ...(e.hint ? { hint: e.hint } : {}),
              },
            ]
          : [],
      ),
    [validation.result],
  );

  useEffect(() => {
    if (!recipe) return;
    api('GET /recipes/:id', { params: { id: recipe } })
      .then((loaded) => {
        setText(loaded.text);
        setSaved(loaded);
      })
      .catch((err: unknown) =>
        setLoadError(
          err instanceof ApiFailure && err.status === 404 ? new Error(`Cannot open recipe "${recipe}" here: ${err.message}`) : err,
        ),
      );
  }, [recipe]);

  const save = async (): Promise<{ id: string; file: string } | undefined> => {
    setBusy(true);
    setActionError(undefined);
    try {
      const result = await api('POST /recipes', { body: { text } });
      setSaved({ ...result, text });
      return result;
    } catch (err) {
      setActionError(err);
      return undefined;
    } finally {
      setBusy(false);
    }
  };

  // The preview plans the text as it is now (saved or not), once it validates; a newer request
  // supersedes an older one, so a slow answer never replaces a fresher plan.
  const previewRun = useRef(0);
  const preview = async () => {
    const run = ++previewRun.current;
    setPreviewError(undefined);
    setPreviewing(true);
    try {
      // Unchanged from its file: plan the file (a bundled recipe's {{recipe.dir}} is its own folder).
      const next = await api('POST /plan', { body: saved && !dirty ? { recipe: saved.file, profile } : { text, profile } });
      if (run === previewRun.current) {
        setPlan(next);
        setPlannedText(text);
      }
    } catch (err) {
      if (run === previewRun.current) setPreviewError(err);
    } finally {
      if (run === previewRun.current) setPreviewing(false);
    }
  };

  // Re-plan when the profile changes or the text becomes valid in a new version.
  // biome-ignore lint/correctness/useExhaustiveDependencies: these three decide when to re-plan; preview reads the rest.
  useEffect(() => {
    if (valid) void preview();
  }, [profile, valid, validation.result]);

  // Save, then show the plan: nothing is installed until the user confirms in the dialog.
  const [confirming, setConfirming] = useState<{ id: string; file: string }>();
  const install = async () => {
    const target = dirty || !saved ? await save() : saved;
    if (target) setConfirming({ id: target.id, file: target.file });
  };
  const started = (job: Job) => {
    window.location.hash = routeHref({ page: 'app', id: job.app });
  };

  return (
    <div
      className="editor-page"
      onKeyDown={(e) => {
        if ((e.ctrlKey || e.metaKey) && e.key === 's') {
          e.preventDefault();
          if (valid) void save();
        }
      }}
    >
      <header className="page-header">
        <div>
          <h1>Recipe editor</h1>
          <p className="muted">
            {saved ? (
              <>
                Saved as <code>{saved.file}</code>
                {dirty ? ' — unsaved changes' : ''}
              </>
            ) : (
              'Not saved yet. Saving writes it to your recipes folder (ORCHARD_HOME/recipes/<id>/recipe.json).'
            )}
          </p>
        </div>
        <div className="actions">
          <button type="button" className="secondary" disabled={!valid || busy} onClick={() => void save()} title="Ctrl+S">
            Save
          </button>
          <button type="button" className="primary" disabled={!valid || busy} onClick={() => void install()}>
            Save and install…
          </button>
        </div>
      </header>
      <ErrorBox error={loadError} />
      <div className="editor-grid">
        <section className="editor-left" aria-label="Recipe text">
          <CodeEditor ref={editor} value={text} onChange={setText} label="Recipe JSON" marks={marks} />
          <ErrorBox error={validation.error} />
          <ValidationList
            result={validation.result}
            checking={validation.checking}
            onJump={(issue) => issue.line !== undefined && editor.current?.goToLine(issue.line, issue.column)}
          />
        </section>
        <section className="editor-right card" aria-labelledby="preview-title">
          <header className="preview-header">
            <h2 id="preview-title">Plan preview</h2>
            <label>
              Profile{' '}
              <select value={profile} onChange={(e) => setProfile(e.target.value as (typeof PROFILES)[number])}>
                {PROFILES.map((p) => (
                  <option key={p} value={p}>
                    {p === 'host' ? 'this machine' : p}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" className="secondary" disabled={!valid || previewing} onClick={() => void preview()}>
              {previewing ? 'Planning…' : 'Refresh'}
            </button>
          </header>
          <ErrorBox error={actionError} />
          <ErrorBox error={previewError} />
          {!plan && !valid && <p className="muted">The preview appears once the recipe is valid; it does not need to be saved.</p>}
          {plan && plannedText !== text && <p className="muted preview-stale">The preview shows the last valid version of the text.</p>}
          {plan && plannedText === text && (
            <p className="muted">
              {dirty ? 'Planned from the unsaved text, as if saved to your recipes folder.' : 'Planned from the saved file.'}
            </p>
          )}
          {plan && <PlanSummary plan={plan} />}
        </section>
      </div>
      {confirming && (
        <InstallDialog
          appId={confirming.id}
          recipe={confirming.file}
          operation="install"
          onStarted={started}
          onClose={() => setConfirming(undefined)}
        />
      )}
    </div>
  );
}
