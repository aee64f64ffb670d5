import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { OrchardError } from '../../core/errors.js';
import { resolveHome, type OrchardHome } from '../../core/home.js';
import { startServer } from '../../api/server.js';
import { liveServerInfo } from '../../settings/server-info.js';
import { ensureSettings } from '../../settings/settings.js';
import { action, printLine } from '../output.js';

/** The port `orchard serve` tries first, so the URL stays the same between runs. */
export const DEFAULT_PORT = 7478;
/** Set in the environment of a detached server: it must not write the token into its log file. */
const CHILD_ENV = 'ORCHARD_SERVE_DETACHED';

interface ServeFlags {
  port?: string;
  open: boolean;
  detach?: boolean;
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('Run the local API and web UI on 127.0.0.1 and print the URL to open (with its token)')
    .option('--port <n>', `port to listen on (default ${DEFAULT_PORT}, or a free one when taken; 0 picks a free one)`)
    .option('--no-open', 'do not open the browser')
    .option('--detach', 'run in the background and return once it listens')
    .action(action(async (flags: ServeFlags) => {
      const home = resolveHome();
      const port = parsePort(flags.port);
      if (flags.detach) {
        const { url, pid, already } = await launchDetached(home, port);
        printLine(`Orchard is running at ${url}`);
        printLine(already ? `(it was already running, pid ${pid})` : `(in the background, pid ${pid}; its log is ${serverLogFile(home)})`);
        if (flags.open) openBrowser(url);
        return;
      }
      await serveForeground(home, port, flags.open);
    }));
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new OrchardError('USAGE', `--port must be a TCP port (0-65535), got "${value}"`);
  return n;
}

export function tokenUrl(port: number, token: string): string {
  return `http://127.0.0.1:${port}/#token=${token}`;
}

export function serverLogFile(home: OrchardHome): string {
  return path.join(home.root, 'logs', 'server.log');
}

async function serveForeground(home: OrchardHome, port: number | undefined, open: boolean): Promise<void> {
  const running = await liveServerInfo(home);
  if (running && running.pid !== process.pid) {
    throw new OrchardError('SERVICE', `an Orchard server already runs for ${home.root} (pid ${running.pid}, port ${running.port})`, {
      hint: 'Use that one (`orchard serve --detach` prints its URL), or stop it first.',
    });
  }
  let server;
  try {
    server = await startServer({ home, port: port ?? DEFAULT_PORT });
  } catch (err) {
    if (port !== undefined || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw portError(err, port ?? DEFAULT_PORT);
    server = await startServer({ home, port: 0 });
  }
  const token = server.context.token;
  if (process.env[CHILD_ENV] === '1') {
    printLine(`Orchard is running at http://127.0.0.1:${server.port}/ (pid ${process.pid}; the token is in orchard.json)`);
  } else {
    printLine(`Orchard is running at ${tokenUrl(server.port, token)}`);
    printLine('Open that URL in a browser on this machine. Press Ctrl-C to stop (running apps stop too).');
    if (open) openBrowser(tokenUrl(server.port, token));
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      printLine('Stopping Orchard and the apps it runs…');
      void server.close().finally(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function portError(err: unknown, port: number): unknown {
  if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return new OrchardError('SERVICE', `port ${port} on 127.0.0.1 is in use`, { hint: 'Pick another with --port N, or --port 0 for any free one.' });
  }
  return err;
}

/**
 * Start `orchard serve` in the background (its output goes to ORCHARD_HOME/logs/server.log, without
 * the token) and wait until it listens. Returns its URL with the token, for this user only.
 */
export async function launchDetached(home: OrchardHome, port?: number, timeoutMs = 20_000): Promise<{ url: string; pid: number; already: boolean }> {
  const settings = await ensureSettings(home);
  const running = await liveServerInfo(home);
  if (running) return { url: tokenUrl(running.port, settings.token), pid: running.pid, already: true };
  const logFile = serverLogFile(home);
  mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a', 0o600);
  const cli = fileURLToPath(new URL('../main.js', import.meta.url));
  const child = spawn(process.execPath, [cli, 'serve', '--no-open', ...(port !== undefined ? ['--port', String(port)] : [])], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ORCHARD_HOME: home.root, [CHILD_ENV]: '1' },
  });
  closeSync(fd);
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  child.unref();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const info = await liveServerInfo(home);
    if (info && info.pid === child.pid) return { url: tokenUrl(info.port, settings.token), pid: info.pid, already: false };
    if (exited !== undefined) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (exited === undefined && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
  throw new OrchardError('SERVICE', 'the background Orchard server did not start', {
    where: logFile,
    hint: `Its log ends with:\n${tailOf(logFile)}`,
  });
}

function tailOf(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-12).join('\n');
  } catch {
    return '(no log)';
  }
}

export function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No browser opener: the printed URL is enough.
  }
}
