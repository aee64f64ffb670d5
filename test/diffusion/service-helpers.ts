import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { allocatePort } from '../../engine/core/port.js';
import { cliEntry, fixturesDir } from '../helpers/paths.js';

export const standIn = path.join(fixturesDir, 'sdcpp', 'sd-server');

export interface RunningService {
  child: ChildProcess;
  port: number;
  argvFile: string;
  output: () => string;
  exited: Promise<number | null>;
  url: (p: string) => string;
  /** Every sd-server the service started: {pid, argv}. */
  launches: () => { pid: number; argv: string[] }[];
  stop: () => Promise<number | null>;
}

/** Start `orchard service image|video` against the stand-in, with scenario env. */
export async function startService(
  dir: string,
  media: 'image' | 'video',
  env: Record<string, string>,
  extraArgs: string[] = ['--backend', 'cuda0'],
): Promise<RunningService> {
  const port = await allocatePort();
  const argvFile = path.join(dir, `argv-${port}.jsonl`);
  writeFileSync(argvFile, '');
  const model = path.join(dir, 'model file.gguf');
  writeFileSync(model, '');
  // PATH without ffmpeg, so results stay as sd.cpp wrote them (and the job says so).
  const child = spawn(
    process.execPath,
    [cliEntry, 'service', media, '--sd-server', standIn, '--diffusion-model', model, '--port', String(port), ...extraArgs],
    {
      env: {
        PATH: path.dirname(process.execPath),
        HOME: dir,
        ORCHARD_HOME: dir,
        NO_COLOR: '1',
        SDCPP_STANDIN_ARGV_FILE: argvFile,
        SDCPP_STANDIN_LINE_MS: '10',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const service: RunningService = {
    child,
    port,
    argvFile,
    output: () => out,
    exited,
    url: (p) => `http://127.0.0.1:${port}${p}`,
    launches: () =>
      readFileSync(argvFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { pid: number; argv: string[] }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  return service;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function waitHealthy(service: RunningService): Promise<Record<string, unknown>> {
  return waitFor('health 200', async () => {
    if (service.child.exitCode !== null) throw new Error(`service exited: ${service.output()}`);
    const res = await fetch(service.url('/health'));
    const body = (await res.json()) as Record<string, unknown>;
    return res.status === 200 ? body : undefined;
  });
}

export async function submit(
  service: RunningService,
  body: Record<string, unknown>,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(service.url('/v1/jobs'), {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

export async function waitJob(service: RunningService, id: string, states: string[]): Promise<Record<string, unknown>> {
  return waitFor(`job ${id} in ${states.join('/')}`, async () => {
    const job = (await (await fetch(service.url(`/v1/jobs/${id}`))).json()) as Record<string, unknown>;
    return states.includes(String(job.state)) ? job : undefined;
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
