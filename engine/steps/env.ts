import { OrchardError } from '../core/errors.js';
import { assertWritablePath, ensureNodeEnv, ensurePythonEnv } from '../../sandbox/index.js';
import { confineStepCommand } from './confine.js';
import type { StepExecutor, StepOutcome } from './step-executor.js';
import { stepWhere } from './step-log.js';

/** Create the app's environment: a Python venv, a node prefix, or nothing. Idempotent. */
export const envStep: StepExecutor<'env'> = async (step, ctx): Promise<StepOutcome> => {
  const params = step.params;
  if (params.type === 'none') {
    ctx.log.line('no environment requested');
    return { outputs: { type: 'none' } };
  }
  const where = stepWhere(step);
  await assertWritablePath(params.dir, { appRoot: ctx.app.root, store: ctx.home.store }, where);
  if (params.dir === ctx.app.root || params.dir === ctx.app.app) {
    throw new OrchardError('PATH_ESCAPE', `the environment folder ${params.dir} would replace the app itself`, { where });
  }
  const log = (line: string) => ctx.log.line(line);
  if (params.type === 'node') {
    await assertWritablePath(ctx.app.home, { appRoot: ctx.app.root, store: ctx.home.store }, where);
    await ensureNodeEnv(params, { home: ctx.app.home, log });
    return { outputs: { type: 'node' } };
  }
  let logged = false;
  const wrap = async (argv: string[]): Promise<string[]> => {
    const confined = await confineStepCommand(ctx, 'env', argv, { network: true, cwd: ctx.app.root });
    if (!logged) log(confined.describe);
    logged = true;
    return confined.argv;
  };
  const made = await ensurePythonEnv(params, { env: ctx.processEnv, signal: ctx.signal, log, wrap });
  return { outputs: { type: 'python', python: made.version, manager: made.manager } };
};
