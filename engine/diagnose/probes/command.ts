import type { Backend } from '../../recipe/recipe.types.gen.js';
import { diagnoseLog } from '../diagnose-log.js';
import type { Verdict } from '../verdict.js';
import { runProbeProcess, type ProbeProcessOptions } from './run-probe-process.js';

/** Run the recipe's own probe command and diagnose what it prints with the log rules. */
export async function probeCommand(argv: readonly string[], expect: Backend, o: ProbeProcessOptions): Promise<Verdict> {
  const run = await runProbeProcess(argv, o);
  const verdict = diagnoseLog(run.output, { expect });
  if (run.exitCode !== 0) verdict.evidence.push(`probe command exited with ${run.timedOut ? 'a timeout' : `code ${run.exitCode ?? '?'}`}`);
  return verdict;
}
