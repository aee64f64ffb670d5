import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { distRoot } from '../helpers/paths.js';

/** The service entry (same command as `orchard service llm`, without loading every CLI command). */
export const serviceEntry = path.join(distRoot, 'engine', 'services', 'llm', 'main.js');

export interface RunningService {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<number | null>;
}

let nextPort = 19000 + (process.pid % 2000);

/** Start the real service process on loopback and wait for its start-up line. */
export async function startService(model: string, extra: string[] = [], timeoutMs = 30_000): Promise<RunningService> {
  const port = nextPort++;
  const child = spawn(process.execPath, [serviceEntry, 'service', 'llm', '--model', model, '--port', String(port), '--threads', '1', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      if (out.includes('orchard llm ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code} before it was ready:\n${out}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Run the service expecting it to fail; returns exit code, output and how long it took. */
export async function runFailingService(model: string, extra: string[], timeoutMs: number): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  const child = spawn(process.execPath, [serviceEntry, 'service', 'llm', '--model', model, '--port', String(nextPort++), '--threads', '1', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output: out, ms: Date.now() - started };
}
