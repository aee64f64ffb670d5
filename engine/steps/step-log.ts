import { appendFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { AppPaths } from '../core/home.js';
import type { StepLog } from './step-executor.js';

type Stream = 'stdout' | 'stderr' | 'system';

/**
 * The log of one step: `apps/<id>/logs/<script>-<key>.log`, appended to (each run starts with a
 * header), every line also handed to `onLine` (the installer turns them into LogEvents).
 * Lines are appended synchronously so that the file is complete whenever a step fails or is killed.
 */
export async function createStepLog(
  app: AppPaths,
  script: string,
  key: string,
  onLine?: (line: string, stream: Stream) => void,
): Promise<StepLog> {
  await mkdir(app.logs, { recursive: true });
  const file = path.join(app.logs, `${safeName(script)}-${safeName(key)}.log`);
  appendFileSync(file, `=== ${new Date().toISOString()} ${script}/${key}\n`);
  return {
    file,
    line(text: string, stream: Stream = 'system') {
      const prefix = stream === 'stderr' ? '! ' : stream === 'system' ? '# ' : '';
      appendFileSync(file, `${prefix}${text}\n`);
      onLine?.(text, stream);
    },
  };
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}

/** How error messages name a step: `install/<key> (<kind> step at /install/N)`. */
export function stepWhere(step: { script: string; key: string; kind: string; pointer: string }): string {
  return `${step.script}/${step.key} (${step.kind} step at ${step.pointer})`;
}
