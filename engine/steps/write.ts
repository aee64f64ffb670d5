import { chmod } from 'node:fs/promises';
import { writeFileAtomic } from '../core/atomic-write.js';
import { assertWritablePath } from '../../sandbox/index.js';
import type { StepExecutor } from './step-executor.js';
import { stepWhere } from './step-log.js';

/** Write a resolved file (config, JSON) atomically, with its mode, inside the app folder. */
export const writeStep: StepExecutor<'write'> = async (step, ctx) => {
  const { path: file, content, mode } = step.params;
  await assertWritablePath(file, { appRoot: ctx.app.root, store: ctx.home.store }, stepWhere(step));
  await writeFileAtomic(file, content, mode);
  await chmod(file, mode); // the umask may have narrowed it
  ctx.log.line(`wrote ${Buffer.byteLength(content)} bytes to ${file} (mode ${mode.toString(8)})`);
  return {};
};
