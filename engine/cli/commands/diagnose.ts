import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { OrchardError } from '../../core/errors.js';
import { diagnoseLog } from '../../diagnose/diagnose-log.js';
import type { Backend } from '../../recipe/recipe.types.gen.js';
import { action, printJson, printLine } from '../output.js';

const BACKENDS: readonly Backend[] = ['metal', 'cuda', 'vulkan', 'rocm', 'cpu', 'unknown'];

export function register(program: Command): void {
  program
    .command('diagnose [file]')
    .description('Read an app log (a file, or - / nothing for stdin) and say which backend really ran: {backend, fallback, offload, evidence, advice}')
    .option('--expect <backend>', `the backend the app should use (${BACKENDS.join('|')})`)
    .option('--json', 'print the verdict as JSON')
    .action(
      action(async (file: string | undefined, opts: { expect?: string; json?: boolean }) => {
        if (opts.expect !== undefined && !BACKENDS.includes(opts.expect as Backend)) {
          throw new OrchardError('USAGE', `--expect must be one of ${BACKENDS.join(', ')} (got "${opts.expect}")`, { hint: 'e.g. orchard diagnose app.log --expect metal' });
        }
        const text = file && file !== '-' ? await readLog(file) : await readStdin();
        const verdict = diagnoseLog(text, opts.expect ? { expect: opts.expect as Backend } : {});
        if (opts.json) {
          printJson(verdict);
          return;
        }
        const offload = verdict.offload ? ` — ${verdict.offload.layers}/${verdict.offload.total} layers on the GPU` : '';
        printLine(`backend: ${verdict.backend}   fallback: ${verdict.fallback}${offload}`);
        for (const e of verdict.evidence) printLine(`  evidence: ${e}`);
        for (const a of verdict.advice) printLine(`  fix:      ${a}`);
      }),
    );
}

async function readLog(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new OrchardError('IO', `cannot read the log ${file}`, { where: file, hint: 'Pass a readable log file, or pipe the log on stdin: orchard diagnose - < app.log', cause: err });
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new OrchardError('USAGE', 'no log given', { hint: 'Pass a file (orchard diagnose app.log) or pipe one (orchard diagnose --json < app.log).' });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}
