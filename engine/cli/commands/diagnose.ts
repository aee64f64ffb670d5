import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { OrchardError } from '../../core/errors.js';
import { diagnoseLog } from '../../diagnose/diagnose-log.js';
import type { Verdict } from '../../diagnose/verdict.js';
import type { Backend } from '../../recipe/recipe.types.gen.js';
import { action, printJson, printLine } from '../output.js';

const EXPECTABLE = ['metal', 'cuda', 'vulkan', 'rocm', 'cpu'] as const;
type Expectable = (typeof EXPECTABLE)[number];

/** Exit codes of `diagnose --expect` (on top of DESIGN §7's 0 ok / 1 error / 2 usage). */
export const EXIT_NOT_USED = 3;
export const EXIT_CANNOT_TELL = 4;

export function register(program: Command): void {
  program
    .command('diagnose [file]')
    .description(
      'Read an app log (a file, or - / nothing for stdin) and say which backend really ran: {backend, fallback, offload, ' +
        'evidence, advice}. ' +
        `With --expect, exit ${EXIT_NOT_USED} when that backend was not used and ${EXIT_CANNOT_TELL} when the log does not say.`,
    )
    .addOption(new Option('--expect <backend>', 'the backend the app should use').choices(EXPECTABLE))
    .option('--json', 'print the verdict as JSON')
    .action(
      action(async (file: string | undefined, opts: { expect?: Expectable; json?: boolean }) => {
        const text = file && file !== '-' ? await readLog(file) : await readStdin();
        const expect: Backend | undefined = opts.expect;
        const verdict = diagnoseLog(text, expect ? { expect } : {});
        const outcome = expect ? judge(verdict, expect) : undefined;
        if (opts.json) {
          printJson(verdict);
          if (outcome && outcome.code !== 0) process.stderr.write(`${outcome.message}\n`);
        } else {
          const offload = verdict.offload ? ` — ${verdict.offload.layers}/${verdict.offload.total} layers on the GPU` : '';
          printLine(`backend: ${verdict.backend}   fallback: ${verdict.fallback}${offload}`);
          for (const e of verdict.evidence) printLine(`  evidence: ${e}`);
          for (const a of verdict.advice) printLine(`  fix:      ${a}`);
          if (outcome) printLine(outcome.message);
        }
        if (outcome) process.exitCode = outcome.code;
      }),
    );
}

/**
 * Was the expected backend used? Used (even partly) → 0; the log proves another backend or the CPU
 * did the work → 3, quoting the line that proves it; the log does not say → 4.
 */
export function judge(verdict: Verdict, expect: Expectable): { code: number; message: string } {
  const proof = verdict.evidence[0] ? ` Evidence: ${verdict.evidence[0]}` : '';
  if (verdict.backend === 'unknown') {
    return { code: EXIT_CANNOT_TELL, message: `expected ${expect}: the log does not show which backend ran.` };
  }
  if (verdict.backend === expect && (expect === 'cpu' || verdict.fallback !== 'full')) {
    const partly = verdict.fallback === 'partial' ? ' (partly: some work runs on the CPU)' : '';
    return { code: 0, message: `expected ${expect}: used${partly}.` };
  }
  const what = verdict.backend === 'cpu' ? 'the work runs on the CPU' : `the log shows ${verdict.backend}`;
  return { code: EXIT_NOT_USED, message: `expected ${expect}: not used — ${what}.${proof}` };
}

async function readLog(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new OrchardError('IO', `cannot read the log ${file}`, {
      where: file,
      hint: 'Pass a readable log file, or pipe the log on stdin: orchard diagnose - < app.log',
      cause: err,
    });
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new OrchardError('USAGE', 'no log given', {
      hint: 'Pass a file (orchard diagnose app.log) or pipe one (orchard diagnose --json < app.log).',
    });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}
