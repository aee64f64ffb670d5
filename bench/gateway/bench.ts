// bench/gateway: tokens/s and time to first token through the gateway against the app's own port,
// on the same running service (one model, one process), requests in alternation.
// Run: node scripts/build.mjs --out .build/gw --engine-only && node .build/gw/bench/gateway/bench.js
// BENCH_RUNS (long runs per side, default 31), BENCH_TTFT_PAIRS (default 60), BENCH_MODELS=tiny,large.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { installApp, llmService } from '../../test/gateway/helpers.js';
import { writeTinyGguf } from '../../test/helpers/tiny-gguf.js';

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'engine', 'cli', 'main.js');
const PROMPT = 'Once upon a time';
const PARAMS = { max_tokens: 400, temperature: 0.8, seed: 42 };
const RUNS = Number(process.env['BENCH_RUNS'] ?? 31);
const TTFT_PAIRS = Number(process.env['BENCH_TTFT_PAIRS'] ?? 60);
const TTFT_MAX_TOKENS = 4;
const MODELS = (process.env['BENCH_MODELS'] ?? 'tiny,large').split(',');
type Run = { tps: number; ttft: number; tokens: number };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const tps = (runs: Run[]) => median(runs.map((r) => r.tps)).toFixed(1);
const ttft = (runs: Run[]) => median(runs.map((r) => r.ttft)).toFixed(2);

const dir = await mkdtemp(path.join(os.tmpdir(), 'orchard gateway bench '));
const home = path.join(dir, 'home');
let serve: ChildProcess | undefined;
try {
  await mkdir(path.join(dir, 'models'), { recursive: true });
  const shapes = {
    tiny: { mode: 'random', seed: 3, ctx: 2048, embd: 256, layers: 4, heads: 8, f16: true },
    large: { mode: 'random', seed: 4, ctx: 2048, embd: 768, layers: 12, heads: 12, ff: 2048, f16: true },
  } as const;
  for (const name of MODELS) {
    const file = path.join(dir, 'models', `${name}.gguf`);
    await writeTinyGguf(file, shapes[name as keyof typeof shapes]);
    await installApp(dir, home, `bench-${name}`, { kind: 'llm', model: file, service: llmService(2048) });
  }
  const started = await startServe();
  serve = started.child;
  const token = (JSON.parse(await readFile(path.join(home, 'orchard.json'), 'utf8')) as { token: string }).token;
  for (const name of MODELS) {
    const id = `bench-${name}`;
    // The first request loads it; then read the app's own port from the API.
    await run(`${started.gateway}/v1/completions`, id, 2);
    const info = (await (await fetch(`${started.api}/api/v1/gateway`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      models: { id: string; port?: number }[];
    };
    const port = info.models.find((m) => m.id === id)?.port;
    if (port === undefined) throw new Error(`${id} is not loaded: ${JSON.stringify(info)}`);
    const direct = `http://127.0.0.1:${port}/v1/completions`;
    const viaGateway = `${started.gateway}/v1/completions`;
    const long = await alternate(
      RUNS,
      () => run(direct, id, PARAMS.max_tokens),
      () => run(viaGateway, id, PARAMS.max_tokens),
    );
    const short = await alternate(
      TTFT_PAIRS,
      () => run(direct, id, TTFT_MAX_TOKENS),
      () => run(viaGateway, id, TTFT_MAX_TOKENS),
    );
    const ratios = long.other.map((r, i) => r.tps / long.around(i, (x) => x.tps));
    const [rlo, rhi] = medianInterval(ratios);
    const diffs = short.other.map((r, i) => r.ttft - short.around(i, (x) => x.ttft));
    const [lo, hi] = medianInterval(diffs);
    console.log(
      `[${name}] tokens per run: direct ${long.base.map((r) => r.tokens).join(',')}; gateway ${long.other.map((r) => r.tokens).join(',')}`,
    );
    console.log(
      `[${name}] direct: ${tps(long.base)} tok/s, TTFT ${ttft(short.base)} ms; ` +
        `gateway: ${tps(long.other)} tok/s, TTFT ${ttft(short.other)} ms (medians)`,
    );
    console.log(
      `[${name}] ratio tok/s gateway/direct: ${median(ratios).toFixed(3)}, 95% interval ${rlo.toFixed(3)} to ${rhi.toFixed(3)} ` +
        `(${RUNS} gateway runs, each against its two direct neighbours; target >= 0.98)`,
    );
    console.log(
      `[${name}] TTFT added by the gateway: ${median(diffs).toFixed(2)} ms, 95% interval ${lo.toFixed(2)} to ${hi.toFixed(2)} ms ` +
        `(${TTFT_PAIRS} paired short requests; target <= 2 ms)`,
    );
  }
} finally {
  if (serve && serve.exitCode === null) {
    const exited = new Promise((resolve) => serve?.once('exit', resolve));
    serve.kill('SIGTERM');
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
}

/** `orchard serve` as a user runs it (its own process), the gateway on a free port, models kept loaded. */
async function startServe(): Promise<{ child: ChildProcess; api: string; gateway: string }> {
  const child = spawn(process.execPath, [cli, 'serve', '--no-open', '--port', '0', '--gateway-port', '0'], {
    env: { ...process.env, ORCHARD_HOME: home, ORCHARD_GATEWAY_KEEP_ALIVE: '-1', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const api = /running at (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      const gateway = /Gateway for every installed model: (http:\/\/127\.0\.0\.1:\d+)\/v1/.exec(out)?.[1];
      if (api && gateway) {
        clearTimeout(timer);
        resolve({ child, api, gateway });
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}:\n${out}`)));
  });
}

/** base, other, base, …, base: `pairs` runs of `other`, each compared with the mean of its two neighbours. */
async function alternate(pairs: number, base: () => Promise<Run>, other: () => Promise<Run>) {
  const b: Run[] = [await base()];
  const o: Run[] = [];
  for (let i = 0; i < pairs; i++) {
    o.push(await other());
    b.push(await base());
  }
  return { base: b, other: o, around: (i: number, f: (r: Run) => number) => (f(b[i]!) + f(b[i + 1]!)) / 2 };
}

function medianInterval(xs: number[]): [number, number] {
  const sorted = [...xs].sort((a, b) => a - b);
  const half = 0.98 * Math.sqrt(sorted.length);
  const lo = Math.max(0, Math.floor(sorted.length / 2 - half));
  const hi = Math.min(sorted.length - 1, Math.ceil(sorted.length / 2 + half) - 1);
  return [sorted[lo]!, sorted[hi]!];
}

/** One streamed completion with a light node:http client (as bench/llm's); TTFT = request start to the first text event. */
function run(url: string, model: string, maxTokens: number): Promise<Run> {
  const body = JSON.stringify({
    model,
    prompt: PROMPT,
    ...PARAMS,
    max_tokens: maxTokens,
    stream: true,
    stream_options: { include_usage: true },
  });
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let first: number | undefined;
    let last = 0;
    let tokens = 0;
    let buffer = '';
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`${url} answered ${res.statusCode}`));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const now = performance.now();
        buffer += chunk;
        for (let at = buffer.indexOf('\n\n'); at >= 0; at = buffer.indexOf('\n\n')) {
          const event = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          if (!event.startsWith('data: {')) continue;
          if (event.includes('"usage":{'))
            tokens = (JSON.parse(event.slice(6)) as { usage: { completion_tokens: number } }).usage.completion_tokens;
          else if (event.includes('"finish_reason":null') && !event.includes('"text":""')) {
            first ??= now;
            last = now;
          }
        }
      });
      res.on('end', () =>
        resolve({
          ttft: (first ?? performance.now()) - start,
          tps: first === undefined || tokens < 2 ? 0 : ((tokens - 1) * 1000) / (last - first),
          tokens,
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
