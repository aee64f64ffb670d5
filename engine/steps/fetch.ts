import { OrchardError } from '../core/errors.js';
import { fetchToStore, freeSpaceSource } from '../store/download/index.js';
import { findVerifiedBlob, preflightDiskSpace, storeBarrier } from '../store/index.js';
import type { ResolvedWeight } from '../recipe/plan-types.js';
import type { JsonValue, StepContext, StepExecutor } from './step-executor.js';
import { stepWhere } from './step-log.js';
import { envSetting } from '../core/env-settings.js';

/**
 * Download the step's weights into the shared store (verified, resumable) and report the blobs
 * the app now references; the installer records them in state.json for reference counting.
 */
export const fetchStep: StepExecutor<'fetch'> = async (step, ctx) => {
  const where = stepWhere(step);
  const previous = previousWeights(ctx.previousOutputs);
  // A `store gc` that began before this install took its app lock finishes before the store is read.
  await storeBarrier(ctx.home, { signal: ctx.signal, log: (line) => ctx.log.line(line) });
  // A weight already in the store needs no byte: by its pin, or by what this step stored last time —
  // and only when its record proves it unchanged since it was hashed; anything else goes through
  // fetchToStore, which hashes it again under the part lock (or fetches it again when corrupt).
  const known = await Promise.all(
    step.params.weights.map(async (w) => {
      const sha = w.sha256 ?? previous[w.id];
      return sha ? findVerifiedBlob(ctx.home, sha, { size: w.size, signal: ctx.signal, proofOnly: true }) : undefined;
    }),
  );
  const missing = step.params.weights.reduce((sum, w, i) => sum + (known[i] ? 0 : (w.size ?? 0)), 0);
  await preflightDiskSpace(ctx.home.store, missing, { freeSpace: freeSpaceSource(), what: `the weights of ${ctx.app.id}` });

  // The Hugging Face token is for gated weights only (`auth: "huggingface"`); fetchToStore sends it
  // only over https, only to the hub's hosts.
  const hfToken = ctx.options.hfToken ?? envSetting('HF_TOKEN');
  // One weight failing stops the others (their bytes stay on disk for the resume) and the step
  // fails only once all have stopped: nothing keeps downloading, or writing the state, after it.
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stop.signal]);
  let firstError: unknown;
  const settled = await Promise.allSettled(
    step.params.weights.map(async (w, i) => {
      try {
        const blob = known[i];
        if (blob) {
          ctx.log.line(`${w.id}: already in the store (${blob.sha256})`);
          return await recorded(ctx, { w, sha256: blob.sha256, size: blob.size, url: w.url, integrity: w.sha256 ? 'pinned' : 'stored' });
        }
        const stored = await fetchToStore({
          home: ctx.home,
          weight: w,
          token: w.auth === 'huggingface' ? hfToken : undefined,
          signal,
          emit: ctx.emit,
          app: ctx.app.id,
          log: (line) => ctx.log.line(line),
        });
        return await recorded(ctx, { w, sha256: stored.sha256, size: stored.size, url: stored.url, integrity: stored.integrity });
      } catch (err) {
        if (!stop.signal.aborted) {
          firstError = err;
          stop.abort();
        }
        throw err;
      }
    }),
  );
  if (firstError !== undefined) {
    if (firstError instanceof OrchardError) throw firstError;
    throw new OrchardError('DOWNLOAD', `download failed: ${firstError instanceof Error ? firstError.message : String(firstError)}`, {
      where,
      cause: firstError,
    });
  }
  const results = settled.map((r) => (r as PromiseFulfilledResult<FetchedWeight>).value);
  const outputs: Record<string, JsonValue> = {};
  for (const r of results) outputs[r.w.id] = weightOutput(r);
  return { outputs: { weights: outputs } };
};

interface FetchedWeight {
  w: ResolvedWeight;
  sha256: string;
  size: number;
  url: string;
  integrity: string;
}

/** What the app's state keeps about a weight (the reference that protects its blob from gc). */
function weightOutput(r: FetchedWeight): { [key: string]: JsonValue } {
  return { sha256: r.sha256, size: r.size, url: r.url, path: r.w.path, integrity: r.integrity, pinned: r.w.pinned };
}

/** The weight is referenced in the app's state before the step goes on to the next one. */
async function recorded(ctx: StepContext, r: FetchedWeight): Promise<FetchedWeight> {
  await ctx.recordWeight?.(r.w.id, weightOutput(r));
  return r;
}

function previousWeights(outputs: Record<string, JsonValue> | undefined): Record<string, string> {
  const weights = outputs?.['weights'];
  const out: Record<string, string> = {};
  if (!weights || typeof weights !== 'object' || Array.isArray(weights)) return out;
  for (const [id, ref] of Object.entries(weights)) {
    if (ref && typeof ref === 'object' && !Array.isArray(ref) && typeof ref['sha256'] === 'string') out[id] = ref['sha256'];
  }
  return out;
}
