import { execa } from 'execa';
import { messageOf } from '../core/errors.js';
import type { ClusterHost, ClusterPaths } from './hosts.js';
import { sshArgv } from './ssh.js';

/**
 * The link to a peer, measured through the same SSH transport the RPC tunnel uses: round trips of a
 * short line (`orchard cluster echo` on the peer answers each at once) and the time to push 16 MiB.
 * Figures include SSH's encryption, which is what a tunnelled worker gets.
 */
export interface LinkReport {
  ok: boolean;
  rttMs?: { median: number; min: number; samples: number };
  mibPerSecond?: number;
  error?: string;
}

const PINGS = 7;
const BULK_BYTES = 16 * 1024 * 1024;

export async function checkLink(paths: ClusterPaths, host: ClusterHost, env: NodeJS.ProcessEnv): Promise<LinkReport> {
  const [file, ...args] = sshArgv(paths, host, [...host.orchard, 'cluster', 'echo']) as [string, ...string[]];
  const child = execa(file, args, { env, stdin: 'pipe', buffer: false, reject: false, timeout: 120_000 });
  const stdout = child.stdout;
  const stdin = child.stdin;
  if (!stdout || !stdin) return { ok: false, error: 'no pipes to ssh' };
  let pending = '';
  const waiters: ((line: string) => void)[] = [];
  stdout.setEncoding('utf8');
  stdout.on('data', (chunk: string) => {
    pending += chunk;
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      waiters.shift()?.(line);
    }
  });
  const nextLine = () =>
    Promise.race([
      new Promise<string>((resolve) => waiters.push(resolve)),
      child.then((r) => {
        throw new Error(`ssh exited (${r.exitCode ?? r.signal}): ${String(r.stderr ?? '').trim() || 'no answer from the peer'}`);
      }),
    ]);
  try {
    stdin.write('hello\n');
    await nextLine();
    const samples: number[] = [];
    for (let i = 0; i < PINGS; i++) {
      const t = performance.now();
      stdin.write(`ping ${i}\n`);
      await nextLine();
      samples.push(performance.now() - t);
    }
    samples.sort((a, b) => a - b);
    const t = performance.now();
    stdin.write(`bulk ${BULK_BYTES}\n`);
    const block = Buffer.alloc(1024 * 1024, 0x61);
    for (let sent = 0; sent < BULK_BYTES; sent += block.length) {
      if (!stdin.write(block)) await new Promise((r) => stdin.once('drain', r));
    }
    await nextLine();
    const seconds = (performance.now() - t) / 1000;
    stdin.end();
    await child;
    return {
      ok: true,
      rttMs: { median: round(samples[Math.floor(samples.length / 2)]!), min: round(samples[0]!), samples: samples.length },
      mibPerSecond: round(BULK_BYTES / 1024 / 1024 / seconds),
    };
  } catch (err) {
    child.kill();
    return { ok: false, error: messageOf(err) };
  }
}

/**
 * The peer's side (`orchard cluster echo`): answers "hello" and each "ping …" line at once, and
 * after "bulk N" reads N bytes and answers "ok".
 */
export function serveEcho(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    let buffered = Buffer.alloc(0);
    let bulkLeft = 0;
    input.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        if (bulkLeft > 0) {
          const take = Math.min(bulkLeft, buffered.length);
          bulkLeft -= take;
          buffered = buffered.subarray(take);
          if (bulkLeft > 0) return;
          output.write('ok\n');
          continue;
        }
        const nl = buffered.indexOf(0x0a);
        if (nl < 0) return;
        const line = buffered.subarray(0, nl).toString('utf8');
        buffered = buffered.subarray(nl + 1);
        const bulk = /^bulk (\d+)$/.exec(line);
        if (bulk) bulkLeft = Math.min(Number(bulk[1]), 1024 * 1024 * 1024);
        else output.write(`${line}\n`);
        if (bulk && bulkLeft === 0) output.write('ok\n');
      }
    });
    input.on('end', resolve);
    input.on('close', resolve);
  });
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
