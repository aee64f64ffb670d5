import { mkdir } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import { messageOf } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';
import { engineBinaries, type EngineBinaries } from './engine-build.js';
import { clusterPaths } from './hosts.js';
import { freeLoopbackPort, waitForPort } from './net.js';

/** What `orchard cluster worker` prints on stdout, one JSON object a line, for the head to read. */
export type WorkerEvent =
  | { event: 'ready'; port: number; pid: number; rpc?: string }
  | { event: 'exit'; code: number | null; signal: string | null }
  | { event: 'error'; message: string };

export interface WorkerAgentOptions {
  home: OrchardHome;
  env: NodeJS.ProcessEnv;
  threads?: number;
  /**
   * "Trusted direct cable" mode: listen on this address of a point-to-point link (e.g. RDMA over
   * Thunderbolt) instead of 127.0.0.1. Opt-in per host; the RPC server has no authentication.
   */
  directCable?: string;
  /** Write one event line (stdout). */
  emit: (event: WorkerEvent) => void;
  /** Diagnostic lines (stderr): the RPC server's own output goes here. */
  log: (line: string) => void;
  /** Resolves when the head goes away (our stdin, the SSH channel, reaches its end). */
  headGone: Promise<void>;
}

/**
 * The worker side of a cluster, run by the head over SSH. It starts `ggml-rpc-server` on
 * 127.0.0.1 only, on a fresh port each time (a stale idle connection to an earlier port then
 * blocks nothing: the server accepts one client at a time), with SIGPIPE ignored (a client that
 * vanishes mid-handshake would otherwise kill it) and its tensor cache in Orchard's folder. It
 * stops the server when the head goes away, so closing the SSH session leaves nothing behind.
 * Resolves with the exit code the agent should end with.
 */
export async function runWorkerAgent(o: WorkerAgentOptions): Promise<number> {
  let bins: EngineBinaries;
  try {
    bins = engineBinaries(o.home, o.env);
  } catch (err) {
    o.emit({ event: 'error', message: messageOf(err) });
    return 1;
  }
  const paths = clusterPaths(o.home);
  await mkdir(paths.rpcCache, { recursive: true });
  const port = await freeLoopbackPort(o.directCable);
  const listen = o.directCable ?? '127.0.0.1';
  if (o.directCable)
    o.log(`warning: ggml-rpc-server listens on ${listen} (trusted direct cable): anyone who can reach that address can run code here`);
  const args = ['-H', listen, '-p', String(port), '-c', ...(o.threads ? ['-t', String(o.threads)] : [])];
  // `trap '' PIPE` then exec: an ignored signal stays ignored across exec (Node's spawn resets
  // dispositions to default, so this cannot be done from here). The words are "$0" "$@", never text.
  const child = execa('sh', ['-c', `trap '' PIPE; exec "$0" "$@"`, bins.rpcServer, ...args], {
    env: { ...o.env, LLAMA_CACHE: paths.rpcCache },
    extendEnv: false,
    stdin: 'ignore',
    buffer: false,
    reject: false,
  });
  let exited = false;
  let rpcVersion: string | undefined;
  let sawVersion: () => void = () => {};
  const versionSeen = new Promise<void>((resolve) => (sawVersion = resolve));
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      const m = /Starting RPC server v(\d+\.\d+\.\d+)/.exec(line);
      if (m) {
        rpcVersion = m[1];
        sawVersion();
      }
      o.log(`rpc-server: ${line}`);
    });
  }
  const ended = child.then((r) => {
    exited = true;
    return r;
  });
  const stop = () => {
    if (!exited) child.kill('SIGTERM');
    setTimeout(() => {
      if (!exited) child.kill('SIGKILL');
    }, 3000).unref();
  };
  void o.headGone.then(stop);

  try {
    await waitForPort(port, { timeoutMs: 60_000, alive: () => !exited, ...(o.directCable ? { host: o.directCable } : {}) });
    // The server prints its banner only when a first client connects (stdout is a pipe); the
    // probe above was that client. Wait briefly for the line, without depending on it.
    await Promise.race([versionSeen, new Promise((r) => setTimeout(r, 2000))]);
    o.emit({ event: 'ready', port, pid: child.pid ?? -1, ...(rpcVersion ? { rpc: rpcVersion } : {}) });
  } catch (err) {
    o.emit({ event: 'error', message: `ggml-rpc-server did not start: ${messageOf(err)}` });
    stop();
  }
  const result = await ended;
  const code = typeof result.exitCode === 'number' ? result.exitCode : null;
  const signal = result.signal ?? null;
  o.emit({ event: 'exit', code, signal });
  return code === 0 ? 0 : 1;
}
