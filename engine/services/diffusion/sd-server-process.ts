import { execa, type ResultPromise } from 'execa';
import { OrchardError } from '../../core/errors.js';
import { TerminalLines } from './terminal-lines.js';

/** Lines of sd-server output kept to explain a crash (research §5: surface the last 50). */
export const LOG_TAIL_LINES = 50;
const READY_POLL_MS = 200;

export interface ProcessExit {
  code: number | null;
  signal: string | null;
  logTail: string[];
}

export interface SdServerProcessOptions {
  sdServer: string;
  args: string[];
  port: number;
  env: NodeJS.ProcessEnv;
  readyTimeoutMs: number;
  onLine: (line: string, stream: 'stdout' | 'stderr') => void;
}

/**
 * One running sd-server, out of our process (a GGML abort must only kill it). Its output is split on
 * \r and \n so carriage-return progress bars become lines.
 */
export class SdServerProcess {
  readonly exited: Promise<ProcessExit>;
  private readonly child: ResultPromise;
  private readonly tail: string[] = [];
  private exit: ProcessExit | undefined;

  constructor(private readonly opts: SdServerProcessOptions) {
    this.child = execa(opts.sdServer, opts.args, {
      env: opts.env,
      extendEnv: false,
      reject: false,
      buffer: false,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      killSignal: 'SIGTERM',
      forceKillAfterDelay: 5000,
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const splitter = new TerminalLines((line) => this.line(line, stream));
      const source = this.child[stream];
      source?.setEncoding('utf8');
      source?.on('data', (chunk: string) => splitter.push(chunk));
      source?.on('end', () => splitter.flush());
    }
    this.exited = this.child.then(
      (result) => this.recordExit(typeof result.exitCode === 'number' ? result.exitCode : null, result.signal ?? null),
      () => this.recordExit(null, null),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exit !== undefined;
  }

  logTail(): string[] {
    return [...this.tail];
  }

  /** Resolve once the native API answers; throw with the log tail if the process dies first. */
  async waitReady(): Promise<void> {
    const deadline = Date.now() + this.opts.readyTimeoutMs;
    const url = `http://127.0.0.1:${this.opts.port}/sdcpp/v1/capabilities`;
    while (Date.now() < deadline) {
      if (this.exit) throw this.startFailure(this.exit);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await Promise.race([new Promise((r) => setTimeout(r, READY_POLL_MS)), this.exited]);
    }
    await this.stop();
    throw new OrchardError('SERVICE', `sd-server did not answer within ${Math.round(this.opts.readyTimeoutMs / 1000)} s`, {
      where: url,
      hint: `Loading large weights can be slow; raise --ready-timeout. Last lines: ${this.tail.slice(-5).join(' | ')}`,
    });
  }

  /** SIGTERM, then SIGKILL after 5 s. */
  async stop(): Promise<ProcessExit> {
    if (!this.exit) this.child.kill('SIGTERM');
    return this.exited;
  }

  private startFailure(exit: ProcessExit): OrchardError {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
    return new OrchardError('SERVICE', `sd-server ${how} before it was ready`, {
      where: this.opts.sdServer,
      hint: `Its last lines:\n    ${exit.logTail.slice(-10).join('\n    ') || '(no output)'}`,
    });
  }

  private line(line: string, stream: 'stdout' | 'stderr'): void {
    if (line.trim() === '') return;
    this.tail.push(line);
    if (this.tail.length > LOG_TAIL_LINES) this.tail.shift();
    this.opts.onLine(line, stream);
  }

  private recordExit(code: number | null, signal: string | null): ProcessExit {
    this.exit = { code, signal, logTail: [...this.tail] };
    return this.exit;
  }
}
