import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { distRoot } from '../helpers/paths.js';

/** The service entry (same command as `orchard service llm`, without loading every CLI command). */
export const serviceEntry = path.join(distRoot, 'engine', 'services', 'llm', 'main.js');

export interface RunningService {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** Resolves when the process has exited: its code, or the signal that killed it. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop: () => Promise<number | null>;
}

/**
 * Start the real service process on loopback and wait for its start-up line. It binds port 0 (the
 * system picks a free port) and the ready line names the URL, so concurrent test files never collide.
 */
export async function startService(model: string, extra: string[] = [], timeoutMs = 30_000): Promise<RunningService> {
  const child = spawn(process.execPath, [serviceEntry, 'service', 'llm', '--model', model, '--port', '0', '--threads', '1', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const exited = exit.then((e) => e.code);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      const ready = /orchard llm ready: .* url=(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (ready) {
        clearTimeout(timer);
        resolve(ready[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code} before it was ready:\n${out}`));
    });
  });
  return {
    url,
    child,
    output: () => out,
    exit,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Run the service expecting it to fail; returns exit code, output and how long it took. */
export async function runFailingService(
  model: string,
  extra: string[],
  timeoutMs: number,
): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [serviceEntry, 'service', 'llm', '--model', model, '--port', '0', '--threads', '1', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output: out, ms: Date.now() - started };
}
