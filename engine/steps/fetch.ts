import { OrchardError } from '../core/errors.js';
import { findBlob } from '../store/blob-store.js';
import { preflightDiskSpace } from '../store/disk-space.js';
import { fetchToStore, freeSpaceSource } from '../store/fetch-to-store.js';
import type { JsonValue, StepExecutor } from './step-executor.js';
import { stepWhere } from './step-log.js';

/**
 * Download the step's weights into the shared store (verified, resumable) and report the blobs
 * the app now references; the installer records them in state.json for reference counting.
 */
export const fetchStep: StepExecutor<'fetch'> = async (step, ctx) => {
  const where = stepWhere(step);
  const previous = previousWeights(ctx.previousOutputs);
  // A weight already in the store needs no byte: by its pin, or by what this step stored last time.
  const known = await Promise.all(
    step.params.weights.map(async (w) => {
      const sha = w.sha256 ?? previous[w.id];
      return sha ? findBlob(ctx.home, sha, w.size) : undefined;
    }),
  );
  const missing = step.params.weights.reduce((sum, w, i) => sum + (known[i] ? 0 : (w.size ?? 0)), 0);
  await preflightDiskSpace(ctx.home.store, missing, { freeSpace: freeSpaceSource(), what: `the weights of ${ctx.app.id}` });

  const token = ctx.options.hfToken ?? process.env['HF_TOKEN'];
  const outputs: Record<string, JsonValue> = {};
  const results = await Promise.all(
    step.params.weights.map(async (w, i) => {
      const blob = known[i];
      if (blob) {
        ctx.log.line(`${w.id}: already in the store (${blob.sha256})`);
        return { w, sha256: blob.sha256, size: blob.size, url: w.url, integrity: w.sha256 ? 'pinned' : 'stored' };
      }
      const stored = await fetchToStore({
        home: ctx.home,
        weight: w,
        token,
        signal: ctx.signal,
        emit: ctx.emit,
        app: ctx.app.id,
        log: (line) => ctx.log.line(line),
      });
      return { w, sha256: stored.sha256, size: stored.size, url: stored.url, integrity: stored.integrity };
    }),
  ).catch((err: unknown) => {
    if (err instanceof OrchardError) throw err;
    throw new OrchardError('DOWNLOAD', `download failed: ${err instanceof Error ? err.message : String(err)}`, { where, cause: err });
  });
  for (const r of results) {
    outputs[r.w.id] = { sha256: r.sha256, size: r.size, url: r.url, path: r.w.path, integrity: r.integrity, pinned: r.w.pinned };
  }
  return { outputs: { weights: outputs } };
};

function previousWeights(outputs: Record<string, JsonValue> | undefined): Record<string, string> {
  const weights = outputs?.['weights'];
  const out: Record<string, string> = {};
  if (!weights || typeof weights !== 'object' || Array.isArray(weights)) return out;
  for (const [id, ref] of Object.entries(weights)) {
    if (ref && typeof ref === 'object' && !Array.isArray(ref) && typeof ref['sha256'] === 'string') out[id] = ref['sha256'];
  }
  return out;
}
