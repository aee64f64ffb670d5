import { mkdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { OrchardError } from '../core/errors.js';
import { assertWritablePath, envBinDir } from '../../sandbox/index.js';
import { confineStepCommand } from './confine.js';
import type { StepContext, StepExecutor } from './step-executor.js';
import { stepWhere } from './step-log.js';

const KILL_GRACE_MS = 3000;

/**
 * Run a command (argv; a shell string only with `shell: true`) in the app folder with the sandbox
 * environment, confined when the OS allows it. Output goes line by line to the step log (which
 * also emits LogEvents). Timeout and cancellation kill the whole process group.
 */
export const runStep: StepExecutor<'run'> = async (step, ctx) => {
  const p = step.params;
  const where = stepWhere(step);
  await assertWritablePath(p.cwd, { appRoot: ctx.app.root, store: ctx.home.store }, where);
  await mkdir(p.cwd, { recursive: true });

  const command = commandOf(p.argv, p.shell, p.shellCommand, where);
  const env = { ...environmentFor(ctx, p.useEnv), ...p.env };
  const confined = await confineStepCommand(ctx, 'run', command, { network: p.network, cwd: await realpath(p.cwd) });
  const argv = confined.argv;
  const shown = showCommand(command);
  ctx.log.line(`$ ${shown}`);
  for (const [name, value] of Object.entries(p.env)) ctx.log.line(`env ${name}=${value}`);
  ctx.log.line(confined.describe);

  const [file, ...args] = argv as [string, ...string[]];
  const child = execa(file, args, {
    cwd: p.cwd,
    env,
    extendEnv: false,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    detached: true, // its own process group, so a kill reaches the children it spawns too
  });
  const tail: string[] = [];
  const pump = (stream: NodeJS.ReadableStream | null, name: 'stdout' | 'stderr') =>
    stream
      ? new Promise<void>((resolve) => {
          const lines = createInterface({ input: stream, crlfDelay: Infinity });
          lines.on('line', (line) => {
            ctx.log.line(line, name);
            tail.push(line);
            if (tail.length > 5) tail.shift();
          });
          lines.on('close', resolve);
        })
      : Promise.resolve();

  let stopReason: 'timeout' | 'cancelled' | undefined;
  const stop = (reason: 'timeout' | 'cancelled') => {
    if (stopReason) return;
    stopReason = reason;
    killGroup(child.pid, 'SIGTERM');
    setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS).unref();
  };
  const timer = setTimeout(() => stop('timeout'), step.timeoutMs);
  const onAbort = () => stop(isTimeout(ctx.signal.reason) ? 'timeout' : 'cancelled');
  if (ctx.signal.aborted) onAbort();
  else ctx.signal.addEventListener('abort', onAbort, { once: true });

  try {
    const [result] = await Promise.all([child, pump(child.stdout, 'stdout'), pump(child.stderr, 'stderr')]);
    if (stopReason === 'cancelled') {
      ctx.log.line('cancelled; the process group was killed');
      throw new OrchardError('CANCELLED', `step "${step.title}" was cancelled`, {
        where,
        hint: 'Run install again to resume from this step.',
      });
    }
    if (stopReason === 'timeout') {
      ctx.log.line(`timed out after ${step.timeoutMs} ms; the process group was killed`);
      throw new OrchardError(
        'STEP_FAILED',
        `step "${step.title}" timed out after ${Math.round(step.timeoutMs / 1000)} s running \`${shown}\``,
        {
          where,
          hint: `See the log: ${ctx.log.file}. Raise the step's "timeout" in the recipe if it needs longer.`,
        },
      );
    }
    if (result.failed || result.exitCode !== 0) {
      const status =
        result.exitCode !== undefined
          ? `exited with code ${result.exitCode}`
          : result.signal
            ? `was killed by ${result.signal}`
            : 'could not be started';
      const detail = result.exitCode === undefined && result.originalMessage ? ` (${result.originalMessage})` : '';
      ctx.log.line(`command ${status}${detail}`);
      throw new OrchardError(
        'STEP_FAILED',
        `step "${step.title}" failed: \`${shown}\` ${status}${detail}${tail.length ? `; last output: ${tail.join(' | ')}` : ''}`,
        {
          where,
          hint: `See the full output in ${ctx.log.file}.`,
        },
      );
    }
    ctx.log.line('exit code 0');
    return {};
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
    killGroup(child.pid, 'SIGKILL'); // leftovers that daemonised inside the group
  }
};

function commandOf(argv: string[] | undefined, shell: boolean, shellCommand: string | undefined, where: string): string[] {
  if (shell) {
    if (shellCommand === undefined) throw new OrchardError('PLAN', 'a shell step has no command string', { where });
    return process.platform === 'win32' ? ['cmd.exe', '/d', '/s', '/c', shellCommand] : ['/bin/sh', '-c', shellCommand];
  }
  if (!argv || argv.length === 0)
    throw new OrchardError('PLAN', 'a run step has an empty command', { where, hint: 'Give "command" as a non-empty argv array.' });
  return argv;
}

/** The process environment, without the app's env on PATH when the step says `useEnv: false`. */
function environmentFor(ctx: StepContext, useEnv: boolean): Record<string, string> {
  if (useEnv) return ctx.processEnv;
  const bin = envBinDir(ctx.app);
  const env = { ...ctx.processEnv };
  if (env['VIRTUAL_ENV'] === ctx.app.env) delete env['VIRTUAL_ENV'];
  env['PATH'] = (env['PATH'] ?? '')
    .split(path.delimiter)
    .filter((d) => d !== bin)
    .join(path.delimiter);
  return env;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function isTimeout(reason: unknown): boolean {
  return reason instanceof Error && reason.name === 'TimeoutError';
}

/** argv as a reader would type it: arguments with spaces or quotes are quoted. */
export function showCommand(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}
