import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { OrchardError } from '../../core/errors.js';
import { resolveHome, type OrchardHome } from '../../core/home.js';
import { startServer } from '../../api/server.js';
import { attachGateway } from '../attach-gateway.js';
import { liveServerInfo } from '../../settings/server-info.js';
import { ensureSettings } from '../../settings/settings.js';
import { action, printLine } from '../output.js';

/** The port `orchard serve` tries first, so the URL stays the same between runs. */
export const DEFAULT_PORT = 7478;
/** Set in the environment of a detached server: it must not write the token into its log file. */
const CHILD_ENV = 'ORCHARD_SERVE_DETACHED';

interface ServeFlags {
  port?: string;
  gatewayPort?: string;
  gateway: boolean;
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
    .option('--gateway-port <n>', 'port of the gateway, the OpenAI + Ollama endpoint for every model (default 11435, or gateway.port)')
    .option('--no-gateway', 'run without the gateway')
    .action(
      action(async (flags: ServeFlags) => {
        const home = resolveHome();
        const port = parsePort(flags.port);
        const gatewayPort = flags.gateway ? parsePort(flags.gatewayPort, '--gateway-port') : null;
        if (flags.detach) {
          const { url, pid, already } = await launchDetached(home, port, undefined, gatewayArgs(gatewayPort));
          printLine(`Orchard is running at ${url}`);
          printLine(
            already ? `(it was already running, pid ${pid})` : `(in the background, pid ${pid}; its log is ${serverLogFile(home)})`,
          );
          if (flags.open) openBrowser(home, url);
          return;
        }
        await serveForeground(home, port, flags.open, gatewayPort);
      }),
    );
}

function parsePort(value: string | undefined, flag = '--port'): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new OrchardError('USAGE', `${flag} must be a TCP port (0-65535), got "${value}"`);
  return n;
}

/** The gateway flags a detached server is started with: null = --no-gateway. */
function gatewayArgs(port: number | undefined | null): string[] {
  if (port === null) return ['--no-gateway'];
  return port === undefined ? [] : ['--gateway-port', String(port)];
}

export function tokenUrl(port: number, token: string): string {
  return `http://127.0.0.1:${port}/#token=${token}`;
}

export function serverLogFile(home: OrchardHome): string {
  return path.join(home.root, 'logs', 'server.log');
}

async function serveForeground(
  home: OrchardHome,
  port: number | undefined,
  open: boolean,
  gatewayPort: number | undefined | null,
): Promise<void> {
  const running = await liveServerInfo(home);
  if (running && running.pid !== process.pid) {
    throw new OrchardError('SERVICE', `an Orchard server already runs for ${home.root} (pid ${running.pid}, port ${running.port})`, {
      hint: 'Use that one (`orchard serve --detach` prints its URL), or stop it first.',
    });
  }
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({ home, port: port ?? DEFAULT_PORT });
  } catch (err) {
    if (port !== undefined || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw portError(err, port ?? DEFAULT_PORT);
    server = await startServer({ home, port: 0 });
  }
  const token = server.context.token;
  const gateway = gatewayPort === null ? undefined : await attachGateway(server, gatewayPort === undefined ? {} : { port: gatewayPort });
  if (process.env[CHILD_ENV] === '1') {
    printLine(`Orchard is running at http://127.0.0.1:${server.port}/ (pid ${process.pid}; the token is in orchard.json)`);
  } else {
    printLine(`Orchard is running at ${tokenUrl(server.port, token)}`);
    printLine('Open that URL in a browser on this machine. Press Ctrl-C to stop (running apps stop too).');
    if (open) openBrowser(home, tokenUrl(server.port, token));
  }
  if (gateway) {
    printLine(
      `Gateway for every installed model: ${gateway.url}/v1 for OpenAI clients, ${gateway.url} for Ollama clients ` +
        '(no token needed on this machine).',
    );
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      printLine('Stopping Orchard and the apps it runs…');
      void (gateway?.close() ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => server.close())
        .finally(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function portError(err: unknown, port: number): unknown {
  if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
    return new OrchardError('SERVICE', `port ${port} on 127.0.0.1 is in use`, {
      hint: 'Pick another with --port N, or --port 0 for any free one.',
    });
  }
  return err;
}

/**
 * Start `orchard serve` in the background (its output goes to ORCHARD_HOME/logs/server.log, without
 * the token) and wait until it listens. Returns its URL with the token, for this user only.
 */
export async function launchDetached(
  home: OrchardHome,
  port?: number,
  timeoutMs = 20_000,
  extraArgs: string[] = [],
): Promise<{ url: string; pid: number; already: boolean }> {
  const settings = await ensureSettings(home);
  const running = await liveServerInfo(home);
  if (running) return { url: tokenUrl(running.port, settings.token), pid: running.pid, already: true };
  const logFile = serverLogFile(home);
  mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a', 0o600);
  const cli = fileURLToPath(new URL('../main.js', import.meta.url));
  const portArgs = port !== undefined ? ['--port', String(port)] : [];
  const child = spawn(process.execPath, [cli, 'serve', '--no-open', ...portArgs, ...extraArgs], {
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

/** How long a one-time opener page is kept (the browser reads it within seconds). */
const OPENER_TTL_MS = 10 * 60_000;

/**
 * Open the UI without putting the token in any process's argv (the process list is readable by
 * every user): the opener gets a file:// page, private to this user (0600 in a 0700 folder of
 * ORCHARD_HOME, like orchard.json), that sends the browser on to the URL with the token.
 */
export function openBrowser(home: OrchardHome, url: string): void {
  let page: string;
  try {
    page = writeOpenerPage(home, url);
  } catch {
    return; // No page, no browser: the printed URL is enough.
  }
  const target = pathToFileURL(page).href;
  const [cmd, args] =
    process.platform === 'darwin'
      ? ['open', [target]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', target]]
        : ['xdg-open', [target]];
  try {
    const child = spawn(cmd, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No browser opener: the printed URL is enough.
  }
  // A foreground server removes its page once the browser had time to read it.
  setTimeout(() => rmSync(page, { force: true }), OPENER_TTL_MS).unref();
}

export function openerDir(home: OrchardHome): string {
  return path.join(home.root, 'open');
}

function writeOpenerPage(home: OrchardHome, url: string): string {
  const dir = openerDir(home);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  // Pages of earlier runs (a detached launcher exits at once, so it cannot remove its own).
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (Date.now() - statSync(file).mtimeMs > OPENER_TTL_MS) rmSync(file, { force: true });
  }
  const file = path.join(dir, `${randomBytes(12).toString('hex')}.html`);
  const quoted = JSON.stringify(url).replace(/</g, '\\u003c');
  const html = `<!doctype html><meta charset="utf-8"><title>Orchard</title>
<meta http-equiv="refresh" content="0;url=${url.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}">
<script>location.replace(${quoted});</script>
<p>Opening Orchard…</p>
`;
  writeFileSync(file, html, { mode: 0o600, flag: 'wx' });
  return file;
}
