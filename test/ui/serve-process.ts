import { spawn, type ChildProcess } from 'node:child_process';
import { cliEntry } from '../helpers/paths.js';

export interface ServeProcess {
  /** The URL `orchard serve` printed, token included. */
  url: string;
  origin: string;
  token: string;
  output: () => string;
  stop(): Promise<void>;
}

/** The real `orchard serve --no-open --port 0`, as a user starts it, with a test ORCHARD_HOME. */
export async function startServe(home: string, timeoutMs = 20_000): Promise<ServeProcess> {
  const child: ChildProcess = spawn(process.execPath, [cliEntry, 'serve', '--no-open', '--port', '0'], {
    env: { ...process.env, ORCHARD_HOME: home, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`orchard serve printed no URL within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = (): void => {
      const m = /(http:\/\/127\.0\.0\.1:\d+)\/#token=([0-9a-f]+)/.exec(output);
      if (!m) return;
      clearTimeout(timer);
      resolve(m);
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`orchard serve exited (${code}):\n${output}`));
    });
  });
  const origin = match[1] ?? '';
  return {
    url: match[0],
    origin,
    token: match[2] ?? '',
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
