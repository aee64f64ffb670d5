import { lstat, readdir } from 'node:fs/promises';
import { messageOf, OrchardError } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';
import { heldAppLocks } from '../core/app-lock.js';
import { blobPath, checkBlob, listBlobs, readBlobRecord, removeBlob, SHA256_HEX, type BlobInfo, type BlobSource } from './blob-store.js';
import { fetchToStore } from './download/index.js';
import { linkBlob } from './link-blob.js';
import { appWeightRefs, collectReferences, type BlobReference } from './references.js';
import { removeName } from './safe-file.js';
import { withStoreLock } from './store-lock.js';

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
  const purge = async () => {
    if (!o.dryRun) await refuseWhileAppsAreBusy(home);
    const refs = await collectReferences(home, o.excludeApp ? { excludeApp: o.excludeApp } : {});
    const removed: { sha256: string; size: number }[] = [];
    for (const blob of await listBlobs(home)) {
      if (refs.has(blob.sha256)) continue;
      if (!o.dryRun) await removeBlob(home, blob.sha256);
      removed.push({ sha256: blob.sha256, size: blob.size });
    }
    return removed;
  };
  // Under the store lock: an install that takes its app lock meanwhile waits at the store's
  // barrier (storeBarrier) until this is done, so its view of the store is never half-deleted.
  return o.dryRun ? purge() : withStoreLock(home, 'gc', purge);
}

/**
 * An install records each model in its app's state as soon as the model is in the store, but
 * between the two (and while it decides that a model already in the store is the one it needs)
 * the blob has no reference yet. So nothing is deleted while any app's install, update or
 * uninstall is running — checked under the store lock, which every install passes through after
 * taking its app lock and before looking at the store.
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
  /** What the content hashes to, or why the blob is not sound. */
  actual?: string;
  why?: string;
  /** With --repair: fetched again from its recorded source and re-linked into the apps that use it. */
  repaired?: boolean;
  /** With --repair: the app links that now point at the sound blob. */
  relinked?: string[];
  /** With --repair: why it could not be repaired. */
  repairError?: string;
}

export interface RepairOptions {
  token?: string | undefined;
  log?: (line: string) => void;
  signal?: AbortSignal | undefined;
}

/**
 * Hash every blob again; a blob whose content no longer matches its name is reported. With
 * `repair`, each corrupt blob is removed, downloaded again from the URL recorded when it was
 * stored (or the one an app's state names), verified, and linked again into every app that used
 * it — only where that app's entry was Orchard's link to the corrupt blob.
 */
export async function verifyBlobs(
  home: OrchardHome,
  o: { signal?: AbortSignal; onBlob?: (check: BlobCheck) => void; repair?: RepairOptions } = {},
): Promise<BlobCheck[]> {
  const checks: BlobCheck[] = [];
  // Every name that looks like a blob, links and other planted entries included (listBlobs skips those).
  const names = (await readdir(home.blobs).catch(() => [] as string[])).filter((n) => SHA256_HEX.test(n)).sort();
  for (const name of names) {
    const file = blobPath(home, name);
    const size = (await lstat(file).catch(() => undefined))?.size ?? 0;
    const condition = await checkBlob(home, name, { force: true, signal: o.signal });
    if (condition.state === 'missing') continue;
    const check: BlobCheck = { sha256: name, size, path: file, ok: condition.state === 'ok' };
    if (condition.state === 'corrupt') {
      check.why = condition.why;
      const m = /hashes to ([0-9a-f]{64})/.exec(condition.why);
      if (m?.[1]) check.actual = m[1];
      if (o.repair) await repairBlob(home, check, o.repair);
    }
    o.onBlob?.(check);
    checks.push(check);
  }
  return checks;
}

async function repairBlob(home: OrchardHome, check: BlobCheck, o: RepairOptions): Promise<void> {
  const record = await readBlobRecord(home, check.sha256);
  const refs = (await collectReferences(home)).get(check.sha256) ?? [];
  const sources: BlobSource[] = [...(record?.sources ?? [])];
  for (const ref of refs) {
    const url = (await appWeightRefs(home, ref.app))[ref.weight]?.url;
    if (url && /^https?:\/\//.test(url) && !sources.some((s) => s.url === url)) sources.push({ url });
  }
  const first = sources[0];
  if (!first) {
    check.repairError = 'no source URL is recorded for it; run install again for the apps that use it';
    return;
  }
  const corrupt = await lstat(check.path).catch(() => undefined);
  await removeBlob(home, check.sha256);
  const mirrors = [...(first.mirrors ?? []), ...sources.slice(1).flatMap((s) => [s.url, ...(s.mirrors ?? [])])];
  try {
    await fetchToStore({
      home,
      weight: {
        id: check.sha256.slice(0, 12),
        url: first.url,
        mirrors,
        sha256: check.sha256,
        size: record?.size,
        ...(first.auth ? { auth: first.auth } : {}),
        ...(first.gatedPage ? { gatedPage: first.gatedPage } : {}),
      },
      token: o.token,
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.log ? { log: o.log } : {}),
    });
  } catch (err) {
    check.repairError = messageOf(err);
    return;
  }
  check.repaired = true;
  check.relinked = [];
  for (const ref of refs) {
    const at = await lstat(ref.path).catch(() => undefined);
    // Orchard's own link to the corrupt blob (same inode), a symlink, or nothing: link it again.
    const ours = !at || at.isSymbolicLink() || (corrupt !== undefined && at.isFile() && at.dev === corrupt.dev && at.ino === corrupt.ino);
    if (!ours) continue;
    if (at && !at.isSymbolicLink()) await removeName(ref.path);
    await linkBlob(home, check.sha256, ref.path);
    check.relinked.push(ref.path);
  }
}
