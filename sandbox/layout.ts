import { mkdir } from 'node:fs/promises';
import type { AppPaths } from '../engine/core/home.js';

/** Create the per-app folders of DESIGN §3 (idempotent; existing content is kept). */
export async function ensureAppLayout(app: AppPaths): Promise<void> {
  await mkdir(app.root, { recursive: true });
  for (const dir of [app.app, app.env, app.models, app.home, app.cache, app.tmp, app.logs]) {
    await mkdir(dir, { recursive: true });
  }
}
