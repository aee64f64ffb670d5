import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { MediaJob } from '../../../engine/api/api-types.js';
import { cancelMediaJob, fetchMediaResult, followMediaJob, isFinished, listMediaJobs, submitMediaJob } from '../api/media-job.js';
import { formatBytes, formatSeconds } from '../format.js';
import { ErrorBox } from './ErrorBox.js';

type Media = 'image' | 'video';
type Inputs = Record<string, string | number | boolean>;

/** Common sizes; the app's own default (its recipe inputs) is added when it is not one of them. */
const SIZES: readonly string[] = ['512x512', '768x768', '1024x1024', '768x512', '512x768', '832x480', '480x832', '1280x720'];

const PHASES: Record<MediaJob['phase'], string> = {
  queued: 'Waiting in the queue',
  loading: 'Loading the model',
  conditioning: 'Reading the prompt',
  sampling: 'Sampling',
  decoding: 'Decoding',
  saving: 'Saving',
  done: 'Done',
};

interface Result {
  url: string;
  mimeType: string;
  bytes: number;
  name: string;
}

/**
 * "Try it" for image and video services: a prompt with size, steps and seed (and frames for video),
 * submitted through the API's service proxy, live step progress from the job's event stream, cancel,
 * and the result shown — an <img>, or a <video> when this browser can play the container sd.cpp
 * wrote, with a download either way.
 */
export function TryMedia({ appId, media, inputs }: { appId: string; media: Media; inputs: Inputs }) {
  const defaultSize = sizeOf(inputs);
  const sizes = defaultSize && !SIZES.includes(defaultSize) ? [defaultSize, ...SIZES] : SIZES;
  const [prompt, setPrompt] = useState(
    media === 'image' ? 'a red apple on a wooden table, studio light' : 'a paper boat drifting on a calm lake',
  );
  const [size, setSize] = useState(defaultSize ?? '');
  const [steps, setSteps] = useState(numberInput(inputs, 'steps'));
  const [seed, setSeed] = useState('');
  const [frames, setFrames] = useState(numberInput(inputs, 'frames'));
  const [startImage, setStartImage] = useState<{ name: string; dataUrl: string }>();
  const [job, setJob] = useState<MediaJob>();
  const [result, setResult] = useState<Result>();
  const [error, setError] = useState<unknown>();
  const [cancelling, setCancelling] = useState(false);
  const follow = useRef<AbortController>(undefined);
  const busy = job !== undefined && !isFinished(job);

  // Stop following when the panel goes away, and free each result's blob when it is replaced.
  useEffect(() => () => follow.current?.abort(), []);
  useEffect(() => () => (result ? URL.revokeObjectURL(result.url) : undefined), [result]);

  /** Follow a job to its end and fetch its file (also for a job found running when the page opens). */
  const track = async (started: MediaJob, controller: AbortController) => {
    setJob(started);
    const final = isFinished(started) ? started : await followMediaJob(appId, started.id, setJob, controller.signal);
    setJob(final);
    if (final.state === 'completed') {
      const file = await fetchMediaResult(appId, final.id, controller.signal);
      setResult({ ...file, name: `${appId}-${final.id}.${final.result?.extension ?? extensionOf(file.mimeType)}` });
    }
  };

  // A render can take many minutes: coming back to the page picks up the latest job where it is.
  // biome-ignore lint/correctness/useExhaustiveDependencies: follow only when the app changes, not when track is re-created.
  useEffect(() => {
    const controller = new AbortController();
    follow.current = controller;
    listMediaJobs(appId, controller.signal)
      .then((jobs) => {
        const latest = jobs.at(-1);
        if (latest && !controller.signal.aborted) return track(latest, controller);
        return undefined;
      })
      .catch((err: unknown) => {
        if (!(err instanceof DOMException && err.name === 'AbortError') && !controller.signal.aborted) setError(err);
      });
    return () => controller.abort();
  }, [appId]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (busy || !prompt.trim()) return;
    setError(undefined);
    setResult(undefined);
    setCancelling(false);
    follow.current?.abort();
    const controller = new AbortController();
    follow.current = controller;
    try {
      const [width, height] = size ? size.split('x').map(Number) : [];
      const submitted = await submitMediaJob(appId, {
        prompt: prompt.trim(),
        ...(width && height ? { width, height } : {}),
        ...(steps ? { steps: Number(steps) } : {}),
        ...(seed ? { seed: Number(seed) } : {}),
        ...(media === 'video' && frames ? { frames: Number(frames) } : {}),
        // Raw base64: what sd.cpp's init_image takes, whatever the service does with data URLs.
        ...(media === 'video' && startImage
          ? { kind: 'image-to-video' as const, initImage: startImage.dataUrl.replace(/^data:[^,]*;base64,/, '') }
          : {}),
      });
      await track(submitted, controller);
    } catch (err) {
      if (!(err instanceof DOMException && err.name === 'AbortError')) setError(err);
    }
  };

  const cancel = async () => {
    if (!job) return;
    setCancelling(true);
    try {
      setJob(await cancelMediaJob(appId, job.id));
    } catch (err) {
      setError(err);
      setCancelling(false);
    }
  };

  return (
    <section className="card try-it try-media" aria-labelledby="try-it-title" data-media={media}>
      <h2 id="try-it-title">Try it</h2>
      <form onSubmit={(e) => void submit(e)} className="media-form">
        <label className="media-prompt">
          Prompt
          <textarea
            value={prompt}
            rows={2}
            onChange={(e) => setPrompt(e.target.value)}
            onKeyDown={(e) => {
              // Enter submits (Shift+Enter for a new line), like the chat.
              if (e.key === 'Enter' && !e.shiftKey) {
                e.preventDefault();
                e.currentTarget.form?.requestSubmit();
              }
            }}
          />
        </label>
        <div className="media-settings">
          <label>
            Size
            <select value={size} onChange={(e) => setSize(e.target.value)}>
              {!defaultSize && <option value="">service default</option>}
              {sizes.map((s) => (
                <option key={s} value={s}>
                  {s.replace('x', ' × ')}
                  {s === defaultSize ? ' (default)' : ''}
                </option>
              ))}
            </select>
          </label>
          <label>
            Steps
            <input type="number" min={1} max={500} value={steps} placeholder="default" onChange={(e) => setSteps(e.target.value)} />
          </label>
          <label>
            Seed
            <input type="number" min={-1} value={seed} placeholder="random" onChange={(e) => setSeed(e.target.value)} />
          </label>
          {media === 'video' && (
            <label>
              Frames
              <input
                type="number"
                min={1}
                max={1025}
                value={frames}
                placeholder="default"
                onChange={(e) => setFrames(e.target.value)}
                title="Wan needs 4n+1 frames; other counts are rounded"
              />
            </label>
          )}
          {media === 'video' && (
            <label title="Image-to-video apps (Wan I2V) animate this picture; leave empty for text-to-video">
              Start image
              <input
                type="file"
                accept="image/png,image/jpeg,image/webp"
                onChange={(e) => {
                  const file = e.target.files?.[0];
                  if (!file) return setStartImage(undefined);
                  void readDataUrl(file).then((dataUrl) => setStartImage({ name: file.name, dataUrl }), setError);
                }}
              />
            </label>
          )}
        </div>
        <div className="media-actions">
          {busy ? (
            <button type="button" className="secondary" disabled={cancelling} onClick={() => void cancel()}>
              {cancelling ? 'Cancelling…' : 'Cancel'}
            </button>
          ) : (
            <button type="submit" className="primary" disabled={!prompt.trim()}>
              Generate {media === 'image' ? 'image' : 'video'}
            </button>
          )}
        </div>
      </form>
      <ErrorBox error={error} />
      {job && <JobStatus job={job} />}
      {result && <ResultView result={result} media={media} job={job} />}
    </section>
  );
}

/** Phase, step i/n with speed and ETA, and what the service noted or failed with. */
function JobStatus({ job }: { job: MediaJob }) {
  const p = job.progress;
  const sampling = job.phase === 'sampling' && p !== undefined;
  const percent =
    job.state === 'completed'
      ? 100
      : sampling
        ? (p.step / p.steps) * 100
        : job.decode
          ? (job.decode.tile / job.decode.tiles) * 100
          : undefined;
  const title =
    job.state === 'running' || job.state === 'queued'
      ? PHASES[job.phase]
      : { completed: 'Finished', failed: 'Failed', cancelled: 'Cancelled' }[job.state];
  const finished = isFinished(job);
  const elapsed = job.finishedAt ? (Date.parse(job.finishedAt) - Date.parse(job.startedAt ?? job.createdAt)) / 1000 : undefined;
  return (
    <div className="media-job" data-state={job.state} data-phase={job.phase} aria-live="polite">
      <div className="media-job-head">
        <strong className="media-phase">{title}</strong>
        {p && (
          <span className="media-step" data-step={p.step} data-steps={p.steps}>
            {finished ? 'last step' : 'step'} {p.step}/{p.steps} · {p.speed} {p.unit}
            {job.state === 'running' && sampling ? ` · ETA ${formatSeconds(p.etaSeconds)}` : ''}
          </span>
        )}
        {finished && elapsed !== undefined && <span className="muted media-elapsed">in {formatSeconds(elapsed)}</span>}
        {job.phase === 'decoding' && job.decode && (
          <span className="muted">
            {' '}
            · tile {job.decode.tile}/{job.decode.tiles}
          </span>
        )}
      </div>
      <progress max={100} value={percent} aria-label="Generation progress" />
      {job.phaseDetail && job.state === 'running' && <p className="muted media-detail">{job.phaseDetail}</p>}
      {job.error && (
        <div className="error-box" role="alert">
          <strong>{job.error.message}</strong>
          {job.error.logTail && job.error.logTail.length > 0 && <pre className="log-tail">{job.error.logTail.join('\n')}</pre>}
        </div>
      )}
      {job.notes.length > 0 && (
        <ul className="media-notes">
          {job.notes.map((note, i) => (
            <li key={i} className="muted">
              {note}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function ResultView({ result, media, job }: { result: Result; media: Media; job: MediaJob | undefined }) {
  const [unplayable, setUnplayable] = useState(false);
  const isVideo = result.mimeType.startsWith('video/');
  // canPlayType answers '' for containers this browser cannot play (AVI everywhere, WebM in Safari).
  const playable = !isVideo || (!unplayable && document.createElement('video').canPlayType(result.mimeType) !== '');
  const seed = job?.request.seed;
  return (
    <figure className="media-result" data-mime={result.mimeType}>
      {!isVideo && <img src={result.url} alt={`Generated ${media} for: ${job?.request.prompt ?? ''}`} />}
      {isVideo && playable && <video src={result.url} controls loop playsInline onError={() => setUnplayable(true)} />}
      {isVideo && !playable && (
        <p className="media-unplayable">
          This browser cannot play <code>{result.mimeType}</code>; download the file and open it in a video player.
        </p>
      )}
      <figcaption>
        <a className="button secondary" href={result.url} download={result.name}>
          Download {result.name.split('.').pop()?.toUpperCase()} ({formatBytes(result.bytes)})
        </a>
        <span className="muted">
          {job ? ` ${job.kind}` : ''}
          {job?.request.width && job.request.height ? ` · ${job.request.width} × ${job.request.height}` : ''}
          {job?.result?.frameCount ? ` · ${job.result.frameCount} frames` : ''}
          {job?.result?.fps ? ` at ${job.result.fps} fps` : ''}
          {seed !== undefined && seed >= 0 ? ` · seed ${seed}` : ''}
        </span>
        {job?.result?.file && (
          <span className="muted media-saved">
            Saved as <code>{job.result.file}</code>
          </span>
        )}
      </figcaption>
    </figure>
  );
}

function readDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error(`cannot read ${file.name}`));
    reader.readAsDataURL(file);
  });
}

function sizeOf(inputs: Inputs): string | undefined {
  const w = Number(inputs['width']);
  const h = Number(inputs['height']);
  return Number.isInteger(w) && Number.isInteger(h) && w > 0 && h > 0 ? `${w}x${h}` : undefined;
}

function numberInput(inputs: Inputs, key: string): string {
  const v = inputs[key];
  return typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)) ? String(v) : '';
}

function extensionOf(mimeType: string): string {
  return (
    { 'image/png': 'png', 'image/webp': 'webp', 'video/webm': 'webm', 'video/mp4': 'mp4', 'video/x-msvideo': 'avi' }[mimeType] ?? 'bin'
  );
}
