import { createInterface } from 'node:readline';
import { execa, type ResultPromise } from 'execa';
import { messageOf } from '../../core/errors.js';
import { confinedCommand, type SandboxScope } from '../../../sandbox/index.js';
import type { ClusterHost, ClusterPaths } from '../../cluster/hosts.js';
import { freeLoopbackPort, waitForPort } from '../../cluster/net.js';
import { headServerArgs, tunnelArgv, workerAgentArgv } from '../../cluster/run-commands.js';
import type { WorkerEvent } from '../../cluster/worker-agent.js';

/**
 * One model served by a group of processes: per worker an SSH session running
 * `orchard cluster worker` (which starts ggml-rpc-server on the peer's loopback) and an SSH tunnel
 * to it; on the head, `llama-server --rpc <tunnels> -ts <split>`. The group lives and dies as one:
 * when any process exits, every other one is stopped and the whole group starts again after a
 * backoff (llama.cpp does not reconnect a lost worker, and a worker dying mid-generation kills
 * the head). Each start uses fresh ports, and a start that does not load in time is retried, so a
 * stale idle connection to a worker (ggml-rpc-server accepts one client at a time) blocks nothing.
 */
export type NodeState = 'starting' | 'ready' | 'failed' | 'stopped';

export interface NodeStatus {
  name: string;
  role: 'worker' | 'head';
  state: NodeState;
  /** The worker's RPC port on its own loopback. */
  remotePort?: number;
  /** The tunnel's port on the head's loopback. */
  localPort?: number;
  /** Peer's ggml-rpc-server pid (on the peer), or llama-server's pid on the head. */
  pid?: number;
  rpcVersion?: string;
  error?: string;
  /**
   * What llama.cpp allocated on this node, from its own load log (`RPC0[127.0.0.1:P] model buffer
   * size = X MiB`, likewise KV and compute): the measured side of the per-node memory bars.
   */
  measured?: { model: number; kv: number; compute: number };
}

export interface GroupStatus {
  state: 'starting' | 'ready' | 'restarting' | 'stopped';
  nodes: NodeStatus[];
  restarts: number;
  /** Which node failed last, and how. */
  lastFailure?: string;
  /** llama-server's own port on 127.0.0.1 (the head service proxies to it). */
  serverPort?: number;
}

export interface GroupOptions {
  paths: ClusterPaths;
  hosts: ClusterHost[];
  llamaServer: string;
  model: string;
  contextSize: number;
  /** -ts values in device order (workers in order, then the head when it has a GPU device). */
  tensorSplit: number[];
  /** Extra llama-server arguments (e.g. -t). */
  serverArgs?: string[];
  log: (line: string) => void;
  /** How long one start may take to load the model (default 15 min, big models over 10 GbE). */
  loadTimeoutMs?: number;
  backoffMs?: { first: number; max: number };
  /** Environment for the head's processes (PATH for ssh). */
  env: NodeJS.ProcessEnv;
  /**
   * The app's sandbox, for llama-server: it parses the recipe's model file, so it runs confined
   * like any recipe service. The SSH sessions stay outside: they hold Orchard's key.
   */
  sandbox?: SandboxScope;
}

type Child = ResultPromise<{ buffer: false; reject: false }>;

export class ClusterGroup {
  private status: GroupStatus;
  private children: { name: string; kind: string; child: Child }[] = [];
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly o: GroupOptions) {
    this.status = { state: 'starting', nodes: this.freshNodes(), restarts: 0 };
  }

  snapshot(): GroupStatus {
    return structuredClone(this.status);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stop every process of the group, here and (through the closed SSH sessions) on the peers. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.killAll();
    await this.loop;
    this.status.state = 'stopped';
    for (const n of this.status.nodes) n.state = 'stopped';
  }

  private freshNodes(): NodeStatus[] {
    return [
      ...this.o.hosts.map((h) => ({ name: h.name, role: 'worker' as const, state: 'starting' as const })),
      { name: 'head', role: 'head' as const, state: 'starting' as const },
    ];
  }

  private async run(): Promise<void> {
    const backoff = this.o.backoffMs ?? { first: 1000, max: 30_000 };
    let wait = backoff.first;
    while (!this.stopping) {
      const began = Date.now();
      const failure = await this.runOnce();
      await this.killAll();
      if (this.stopping) break;
      this.status.restarts++;
      this.status.lastFailure = failure;
      this.status.state = 'restarting';
      this.o.log(`cluster: ${failure}; restarting the group in ${Math.round(wait / 100) / 10} s`);
      // A group that ran for a while starts over with the first backoff.
      if (Date.now() - began > 60_000) wait = backoff.first;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, wait).unref();
      });
      wait = Math.min(backoff.max, wait * 2);
    }
  }

  /** Start the whole group and wait until one of its processes exits; returns what failed. */
  private async runOnce(): Promise<string> {
    this.status.state = 'starting';
    this.status.nodes = this.freshNodes();
    let firstExit: (why: string) => void = () => {};
    const exited = new Promise<string>((resolve) => (firstExit = resolve));
    // The same first exit, as a rejection to race a start against (handled, so never "unhandled").
    const exitedAsError = exited.then((why) => Promise.reject(new Error(why)));
    exitedAsError.catch(() => undefined);
    const exits = { push: (p: Promise<string>) => void p.then(firstExit) };
    try {
      const rpc: string[] = [];
      for (const [i, host] of this.o.hosts.entries()) {
        const node = this.status.nodes[i]!;
        const ready = await this.startWorker(host, node, exits);
        if (host.direct) {
          node.state = 'ready';
          rpc.push(`${host.direct.address}:${ready.port}`);
          continue;
        }
        const localPort = await freeLoopbackPort();
        const tunnel = this.spawn(`${host.name} tunnel`, tunnelArgv(this.o.paths, host, localPort, ready.port));
        exits.push(this.exitOf(tunnel, `the SSH tunnel to ${host.name}`, node));
        let tunnelUp = true;
        void tunnel.then(() => (tunnelUp = false));
        await waitForPort(localPort, { timeoutMs: 30_000, alive: () => tunnelUp && !this.stopping });
        node.localPort = localPort;
        node.state = 'ready';
        rpc.push(`127.0.0.1:${localPort}`);
      }
      const head = this.status.nodes[this.status.nodes.length - 1]!;
      const serverPort = await freeLoopbackPort();
      const args = headServerArgs({
        model: this.o.model,
        rpc,
        tensorSplit: this.o.tensorSplit,
        contextSize: this.o.contextSize,
        port: serverPort,
        ...(this.o.serverArgs ? { extra: this.o.serverArgs } : {}),
      });
      const argv = [this.o.llamaServer, ...args];
      const confined = this.o.sandbox
        ? await confinedCommand('service', argv, { scope: this.o.sandbox, network: true, outliveParent: false })
        : undefined;
      if (confined) this.o.log(`llama-server ${confined.describe}`);
      const server = this.spawn('llama-server', confined?.argv ?? argv, 'log', (line) => this.readBuffers(line));
      head.pid = server.pid ?? -1;
      exits.push(this.exitOf(server, 'llama-server on the head', head));
      this.status.serverPort = serverPort;
      await Promise.race([this.waitLoaded(serverPort, () => server.exitCode === null && !this.stopping), exitedAsError]);
      head.state = 'ready';
      this.status.state = 'ready';
      this.o.log(`cluster: ready, ${this.o.hosts.length} worker(s), split ${this.o.tensorSplit.join(',')}`);
      return await exited;
    } catch (err) {
      return messageOf(err);
    }
  }

  private async startWorker(host: ClusterHost, node: NodeStatus, exits: { push: (p: Promise<string>) => void }): Promise<{ port: number }> {
    const agent = this.spawn(`${host.name} worker`, workerAgentArgv(this.o.paths, host), 'pipe');
    const ready = new Promise<{ port: number }>((resolve, reject) => {
      if (!agent.stdout) return reject(new Error('no stdout'));
      createInterface({ input: agent.stdout, crlfDelay: Infinity }).on('line', (line) => {
        let event: WorkerEvent;
        try {
          event = JSON.parse(line) as WorkerEvent;
        } catch {
          this.o.log(`${host.name}: ${line}`);
          return;
        }
        if (event.event === 'ready') {
          node.remotePort = event.port;
          node.pid = event.pid;
          if (event.rpc) node.rpcVersion = event.rpc;
          resolve({ port: event.port });
        } else if (event.event === 'error') {
          node.error = event.message;
          reject(new Error(`${host.name}: ${event.message}`));
        } else {
          node.error = `ggml-rpc-server exited (${event.signal ?? `code ${event.code}`})`;
        }
      });
    });
    ready.catch(() => undefined);
    const exit = this.exitOf(agent, `the worker on ${host.name}`, node);
    exits.push(exit);
    const exitAsError = exit.then((why) => Promise.reject(new Error(why)));
    exitAsError.catch(() => undefined);
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${host.name}: the worker did not start within 90 s`)), 90_000).unref(),
    );
    timeout.catch(() => undefined);
    return await Promise.race([ready, exitAsError, timeout]);
  }

  /** Attribute llama-server's per-device buffer lines to the node whose RPC endpoint they name. */
  private readBuffers(line: string): void {
    const m = /RPC\d+\[([^\]]+)\] (model|KV|compute) buffer size =\s+([\d.]+) MiB/.exec(line);
    if (!m) return;
    const endpoint = m[1]!;
    const node = this.status.nodes.find((n, i) => {
      const host = this.o.hosts[i];
      if (!host) return false;
      return host.direct ? endpoint === `${host.direct.address}:${n.remotePort}` : endpoint === `127.0.0.1:${n.localPort}`;
    });
    if (!node) return;
    node.measured ??= { model: 0, kv: 0, compute: 0 };
    const kind = m[2] === 'model' ? 'model' : m[2] === 'KV' ? 'kv' : 'compute';
    node.measured[kind] += Math.round(Number(m[3]) * 1024 * 1024);
  }

  private spawn(name: string, argv: string[], stdout: 'pipe' | 'log' = 'log', onLine?: (line: string) => void): Child {
    const [file, ...args] = argv as [string, ...string[]];
    // stdin stays an open pipe for the worker's SSH session: the agent on the peer stops its RPC
    // server when that channel closes.
    const child = execa(file, args, { env: this.o.env, extendEnv: false, stdin: 'pipe', buffer: false, reject: false });
    const pipeLines = (stream: NodeJS.ReadableStream | null) => {
      if (!stream) return;
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        onLine?.(line);
        this.o.log(`${name}: ${line}`);
      });
    };
    if (stdout === 'log') pipeLines(child.stdout);
    pipeLines(child.stderr);
    this.children.push({ name, kind: stdout, child });
    return child;
  }

  private exitOf(child: Child, what: string, node: NodeStatus): Promise<string> {
    return child.then((r) => {
      if (!this.stopping) {
        node.state = 'failed';
        const how = r.signal ? `signal ${r.signal}` : `code ${r.exitCode}`;
        node.error ??= `exited (${how})`;
      }
      return (
        `${what} exited (${r.signal ? `signal ${r.signal}` : `code ${r.exitCode}`})` +
        `${node.error && node.role === 'worker' ? `: ${node.error}` : ''}`
      );
    });
  }

  private async waitLoaded(port: number, alive: () => boolean): Promise<void> {
    const deadline = Date.now() + (this.o.loadTimeoutMs ?? 15 * 60_000);
    while (alive()) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('llama-server did not load the model in time (a worker may be blocked by another client)');
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('llama-server exited while loading');
  }

  private async killAll(): Promise<void> {
    const children = this.children;
    this.children = [];
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const grace = setTimeout(() => {
      for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, 5000);
    await Promise.all(children.map(({ child }) => child.catch(() => undefined)));
    clearTimeout(grace);
  }
}
