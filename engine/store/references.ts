import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { OrchardError } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';

/** A weight this app references in the shared store (for reference counting and gc). */
export interface WeightRef {
  sha256: string;
  size: number;
  url: string;
  /** Where the app sees it (apps/<id>/models/...). */
  path: string;
}

/**
 * Who uses which blob, read from every `apps/<id>/state.json` (its `weights` field). A state that
 * cannot be read stops any deletion: a blob is only unreferenced when every app could be asked.
 */
export interface BlobReference {
  app: string;
  weight: string;
  path: string;
}

export async function collectReferences(home: OrchardHome, o: { excludeApp?: string } = {}): Promise<Map<string, BlobReference[]>> {
  const refs = new Map<string, BlobReference[]>();
  let apps: string[];
  try {
    apps = await readdir(home.apps);
  } catch {
    return refs;
  }
  for (const app of apps.sort()) {
    if (app === o.excludeApp) continue;
    for (const [weight, ref] of Object.entries(await appWeightRefs(home, app))) {
      const sha = ref.sha256.toLowerCase();
      const list = refs.get(sha) ?? [];
      list.push({ app, weight, path: ref.path });
      refs.set(sha, list);
    }
  }
  return refs;
}

/** The weights one app references (empty when it has no state file). */
export async function appWeightRefs(home: OrchardHome, app: string): Promise<Record<string, WeightRef>> {
  const file = path.join(home.apps, app, 'state.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return {};
    throw err;
  }
  try {
    const state = JSON.parse(text) as { weights?: unknown };
    const weights = state.weights;
    if (!weights || typeof weights !== 'object' || Array.isArray(weights)) return {};
    const out: Record<string, WeightRef> = {};
    for (const [id, ref] of Object.entries(weights as Record<string, unknown>)) {
      if (ref && typeof ref === 'object' && typeof (ref as WeightRef).sha256 === 'string') out[id] = ref as WeightRef;
    }
    return out;
  } catch (err) {
    throw new OrchardError('IO', `the state of app "${app}" is unreadable, so Orchard cannot tell which models it uses`, {
      where: file,
      hint: 'Fix the JSON (or uninstall that app) before removing models from the store.',
      cause: err,
    });
  }
}
