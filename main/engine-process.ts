import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository (or packaged app) root: dist-main/ sits beside dist/ and ui/. */
export const appRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cliEntry = path.join(appRoot, 'dist', 'engine', 'cli', 'main.js');
const nodeFlagsModule = path.join(appRoot, 'dist', 'engine', 'cli', 'node-flags.js');
const URL_PATTERN = /http:\/\/127\.0\.0\.1:(\d+)\/#token=([0-9A-Za-z_-]+)/;

export interface RunningEngine {
  /** http://127.0.0.1:<port> */
  origin: string;
  token: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Start `orchard serve --no-open --port 0` as a child (Electron's own binary in Node mode, so no
 * separate Node is needed) and read the URL with the token it prints. The child is the same
 * server a terminal user runs; the shell adds nothing to the engine.
 */
export async function startEngine(opts: { home?: string; hfToken?: string; timeoutMs?: number }): Promise<RunningEngine> {
  for (const file of [cliEntry, nodeFlagsModule]) {
    if (!existsSync(file)) throw new Error(`the engine is not built (${file} is missing): run npm run build`);
  }
  // The engine's own node flags, from the engine build (this shell is compiled separately).
  const { ENGINE_NODE_FLAGS } = (await import(pathToFileURL(nodeFlagsModule).href)) as { ENGINE_NODE_FLAGS: readonly string[] };
  const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_RUN_AS_NODE: '1', NO_COLOR: '1' };
  if (opts.home) env['ORCHARD_HOME'] = opts.home;
  if (opts.hfToken) env['HF_TOKEN'] = opts.hfToken;
  const child = spawn(process.execPath, [...ENGINE_NODE_FLAGS, cliEntry, 'serve', '--no-open', '--port', '0'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let seen = '';
    let errors = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`the Orchard engine did not start within ${opts.timeoutMs ?? 30_000} ms.\n${errors.slice(-2000)}`));
    }, opts.timeoutMs ?? 30_000);
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      errors += chunk;
      process.stderr.write(chunk);
    });
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      seen += chunk;
      const match = URL_PATTERN.exec(seen);
      if (!match) return;
      clearTimeout(timer);
      // Never echo the token line; later output is passed through for diagnosis.
      seen = '';
      resolve({ origin: `http://127.0.0.1:${match[1]}`, token: match[2] ?? '', child, stop: () => stopChild(child) });
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the Orchard engine exited (${signal ?? `code ${code}`}) before it was ready.\n${errors.slice(-2000)}`));
    });
  });
}

/** SIGTERM lets the server stop the apps it runs; SIGKILL only if it hangs. */
function stopChild(child: ChildProcess, graceMs = 8000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
