import { OrchardError } from '../core/errors.js';
import { assertWritablePath } from '../../sandbox/index.js';
import { appWeightRefs, linkBlob } from '../store/index.js';
import type { StepExecutor } from './step-executor.js';
import { stepWhere } from './step-log.js';

/**
 * Make a fetched weight appear where the app expects it (apps/<id>/models/...): a hardlink into
 * the store, else a symlink. A real file already there is kept and reported, never replaced.
 */
export const linkStep: StepExecutor<'link'> = async (step, ctx) => {
  const { weight, to } = step.params;
  const where = stepWhere(step);
  await assertWritablePath(to, { appRoot: ctx.app.root, store: ctx.home.store }, where);
  const sha256 = weight.sha256 ?? (await appWeightRefs(ctx.home, ctx.app.id))[weight.id]?.sha256;
  if (!sha256) {
    throw new OrchardError('STEP_FAILED', `weight "${weight.id}" has not been fetched yet, so there is nothing to link`, {
      where,
      hint: 'Put a fetch step for this weight before the link step in the recipe.',
    });
  }
  const { method, blob } = await linkBlob(ctx.home, sha256, to, { where });
  ctx.log.line(`${weight.id}: ${method === 'already-linked' ? 'already linked' : `${method}ed`} ${to} -> ${blob}`);
  return { outputs: { link: { weight: weight.id, to, sha256, method } } };
};
