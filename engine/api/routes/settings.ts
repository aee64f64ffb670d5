import path from 'node:path';
import { OrchardError } from '../../core/errors.js';
import { checkConcurrency, updateSettings, type SettingsPatch } from '../../settings/settings.js';
import type { ApiContext } from '../api-context.js';
import type { Settings } from '../api-types.js';
import { HttpError } from '../http-errors.js';
import { field } from '../http-io.js';

export function getSettings(ctx: ApiContext): Settings {
  return { home: ctx.home.root, hfTokenSet: ctx.settings.hfToken !== undefined, concurrency: ctx.settings.concurrency };
}

/** PUT /settings { hfToken?, concurrency?, home? }. The HF token is stored, never answered back. */
export async function putSettings(ctx: ApiContext, body: Record<string, unknown>): Promise<Settings> {
  const patch: SettingsPatch = {};
  const home = field.string(body, 'home');
  if (home !== undefined && path.resolve(home) !== ctx.home.root) {
    throw new OrchardError('USAGE', 'the home folder cannot change while Orchard runs', {
      where: 'body.home',
      hint: `Quit Orchard and start it with ORCHARD_HOME=${JSON.stringify(home)} (it is ${ctx.home.root} now).`,
    });
  }
  if (body['hfToken'] !== undefined) {
    const token = body['hfToken'];
    if (token !== null && typeof token !== 'string')
      throw new HttpError(400, 'USAGE', '"hfToken" must be a string, or null to remove it', undefined, 'body.hfToken');
    if (typeof token === 'string' && /\s/.test(token.trim() === '' ? '' : token))
      throw new HttpError(400, 'USAGE', 'the Hugging Face token must not contain spaces', undefined, 'body.hfToken');
    patch.hfToken = token;
  }
  if (body['concurrency'] !== undefined) patch.concurrency = checkConcurrency(body['concurrency']);
  ctx.settings = await updateSettings(ctx.home, patch, ctx.token);
  ctx.jobs.setConcurrency(ctx.settings.concurrency);
  return getSettings(ctx);
}
