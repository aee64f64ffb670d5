import { execa, type ResultPromise } from 'execa';
import { OrchardError } from '../../core/errors.js';
import { LineSplitter } from '../../supervisor/index.js';

/** Lines of mlx_lm.server output kept to explain a crash. */
const LOG_TAIL_LINES = 50;

export interface UpstreamOptions {
  /** The venv's python: runs `<python> -m mlx_lm server …` (the invocation mlx-lm 0.31 recommends). */
  python: string;
  /** Arguments after `server` (--model, --host, --port, …). */
  args: string[];
  port: number;
  env: NodeJS.ProcessEnv;
  onLine: (line: string) => void;
}

export interface UpstreamExit {
  code: number | null;
  signal: string | null;
  logTail: string[];
}

/** One mlx_lm.server child process; its output goes on to our own stdout/stderr line by line. */
export class MlxUpstream {
  readonly exited: Promise<UpstreamExit>;
  private readonly child: ResultPromise;
  private readonly tail: string[] = [];
  private exit: UpstreamExit | undefined;

  constructor(private readonly o: UpstreamOptions) {
    this.child = execa(o.python, ['-m', 'mlx_lm', 'server', ...o.args], {
      env: o.env,
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
      const splitter = new LineSplitter((line) => this.line(line));
      const source = this.child[stream];
      source?.setEncoding('utf8');
      source?.on('data', (chunk: string) => splitter.push(chunk));
      source?.on('end', () => splitter.flush());
    }
    this.exited = this.child.then(
      (r) => this.recordExit(typeof r.exitCode === 'number' ? r.exitCode : null, r.signal ?? null),
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

  /** Wait until mlx_lm.server answers GET /v1/models; throw with its last lines if it dies first. */
  async waitListening(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const url = `http://127.0.0.1:${this.o.port}/v1/models`;
    while (Date.now() < deadline) {
      if (this.exit) throw this.failure(this.exit, 'before it answered');
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await Promise.race([new Promise((r) => setTimeout(r, 200)), this.exited]);
    }
    throw new OrchardError('SERVICE', `mlx_lm.server did not answer within ${Math.round(timeoutMs / 1000)} s`, {
      where: url,
      hint: `Its last lines: ${this.tail.slice(-5).join(' | ') || '(none)'}`,
    });
  }

  failure(exit: UpstreamExit, when: string): OrchardError {
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
    return new OrchardError('SERVICE', `mlx_lm.server ${how} ${when}`, {
      where: `${this.o.python} -m mlx_lm server`,
      hint: `Its last lines:\n    ${exit.logTail.slice(-10).join('\n    ') || '(no output)'}`,
    });
  }

  /** SIGTERM (Python's default handler ends the process at once), SIGKILL after 5 s. */
  async stop(): Promise<UpstreamExit> {
    if (!this.exit) this.child.kill('SIGTERM');
    return this.exited;
  }

  private line(line: string): void {
    if (line.trim() === '') return;
    this.tail.push(line);
    if (this.tail.length > LOG_TAIL_LINES) this.tail.shift();
    this.o.onLine(line);
  }

  private recordExit(code: number | null, signal: string | null): UpstreamExit {
    this.exit = { code, signal, logTail: [...this.tail] };
    return this.exit;
  }
}
