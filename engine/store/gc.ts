import { rm } from 'node:fs/promises';
import { OrchardError } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';
import { heldAppLocks } from '../core/app-lock.js';
import { listBlobs, sha256OfFile, type BlobInfo } from './blob-store.js';
import { collectReferences, type BlobReference } from './references.js';

/**
 * Store maintenance: which blobs are used by whom, which are unused (and removing those), and
 * whether each blob still hashes to its name.
 */
export interface StoredBlobReport extends BlobInfo {
  references: BlobReference[];
}

export async function storeReport(home: OrchardHome): Promise<StoredBlobReport[]> {
  const refs = await collectReferences(home);
  return (await listBlobs(home)).map((b) => ({ ...b, references: refs.get(b.sha256) ?? [] }));
}

/**
 * Delete every blob no app references (optionally not counting `excludeApp`, which is being
 * removed). Apps' own links to a removed blob are not touched: there are none, by definition.
 */
export async function purgeUnreferencedBlobs(
  home: OrchardHome,
  o: { excludeApp?: string; dryRun?: boolean } = {},
): Promise<{ sha256: string; size: number }[]> {
  if (!o.dryRun) await refuseWhileAppsAreBusy(home);
  const refs = await collectReferences(home, o.excludeApp ? { excludeApp: o.excludeApp } : {});
  const removed: { sha256: string; size: number }[] = [];
  for (const blob of await listBlobs(home)) {
    if (refs.has(blob.sha256)) continue;
    if (!o.dryRun) await rm(blob.path, { force: true });
    removed.push({ sha256: blob.sha256, size: blob.size });
  }
  return removed;
}

/**
 * An install records each model in its app's state as soon as the model is in the store, but
 * between the two (and while it decides that a model already in the store is the one it needs)
 * the blob has no reference yet. So nothing is deleted while any app's install, update or
 * uninstall is running.
 */
async function refuseWhileAppsAreBusy(home: OrchardHome): Promise<void> {
  const busy = await heldAppLocks(home);
  if (busy.length === 0) return;
  const list = busy.map((b) => `${b.operation} of ${b.app} (pid ${b.pid})`).join(', ');
  throw new OrchardError('LOCKED', `no model was removed: ${list} is running, and it may be using a model it has not recorded yet`, {
    where: home.store,
    hint: 'Run `orchard store gc` again once it has finished.',
  });
}

export interface BlobCheck {
  sha256: string;
  size: number;
  path: string;
  ok: boolean;
  actual?: string;
}

/** Hash every blob again; a blob whose content no longer matches its name is reported, not deleted. */
export async function verifyBlobs(home: OrchardHome, o: { signal?: AbortSignal; onBlob?: (check: BlobCheck) => void } = {}): Promise<BlobCheck[]> {
  const checks: BlobCheck[] = [];
  for (const blob of await listBlobs(home)) {
    const actual = await sha256OfFile(blob.path, o.signal);
    const check: BlobCheck = { sha256: blob.sha256, size: blob.size, path: blob.path, ok: actual === blob.sha256, ...(actual === blob.sha256 ? {} : { actual }) };
    o.onBlob?.(check);
    checks.push(check);
  }
  return checks;
}
