import type { ClusterHost, ClusterPaths } from './hosts.js';
import { sshArgv, tunnelArgv } from './ssh.js';

/**
 * Every command a cluster run starts, built in one place so that what the plan shows is what the
 * group runs: per worker an SSH session running the worker agent and (unless the host is a trusted
 * direct cable) an SSH tunnel to its RPC port; on the head, llama-server.
 */
export function workerAgentArgv(paths: ClusterPaths, host: ClusterHost): string[] {
  return sshArgv(paths, host, workerRemoteArgv(host));
}

/** What the worker's SSH session runs on the peer. */
export function workerRemoteArgv(host: ClusterHost): string[] {
  return [...host.orchard, 'cluster', 'worker', ...(host.direct ? ['--direct-cable', host.direct.address] : [])];
}

export { tunnelArgv };

export interface HeadServerOptions {
  model: string;
  /** host:port of each worker's RPC server as the head reaches it (tunnel ends, or direct addresses). */
  rpc: string[];
  tensorSplit: number[];
  contextSize: number;
  /** A number, or `<port>` in a plan. */
  port: number | string;
  extra?: string[];
}

/**
 * llama-server on the head: every layer offloaded (-ngl 999) to the devices in the -ts split Orchard
 * chose by bytes (--fit off, so llama.cpp does not re-cut it), loopback only, and -lv 5 so its log
 * records where each layer went (what `orchard fit --hosts` predicted).
 */
export function headServerArgs(o: HeadServerOptions): string[] {
  return [
    '-m',
    o.model,
    '--rpc',
    o.rpc.join(','),
    '-ts',
    o.tensorSplit.join(','),
    '-ngl',
    '999',
    '--fit',
    'off',
    '-c',
    String(o.contextSize),
    '--host',
    '127.0.0.1',
    '--port',
    String(o.port),
    '-lv',
    '5',
    ...(o.extra ?? []),
  ];
}

export interface PlannedClusterCommand {
  where: string;
  what: string;
  argv: string[];
  /** For an SSH session: the argv that runs on the peer (inside `argv`, quoted word by word). */
  remote?: string[];
  /** Shown in red: something listens beyond loopback (a trusted direct cable). */
  danger?: string;
}

/** The commands of a run, with `<port>` where a port is chosen at start. */
export function plannedClusterCommands(
  paths: ClusterPaths,
  hosts: ClusterHost[],
  o: { llamaServer: string; model: string; tensorSplit: number[]; contextSize: number },
): PlannedClusterCommand[] {
  const out: PlannedClusterCommand[] = [];
  const rpc: string[] = [];
  for (const host of hosts) {
    out.push({
      where: host.name,
      what: 'worker agent over SSH: starts ggml-rpc-server, stops it when the session ends',
      argv: workerAgentArgv(paths, host),
      remote: workerRemoteArgv(host),
    });
    if (host.direct) {
      rpc.push(`${host.direct.address}:<port>`);
      out[out.length - 1]!.danger =
        `trusted direct cable: ggml-rpc-server listens on ${host.direct.address} without authentication or encryption`;
    } else {
      out.push({
        where: 'head',
        what: `SSH tunnel to ${host.name}'s RPC port (127.0.0.1 on both ends)`,
        argv: tunnelArgv(paths, host, '<port>', '<port>'),
      });
      rpc.push('127.0.0.1:<port>');
    }
  }
  out.push({
    where: 'head',
    what: "llama-server (the OpenAI API, behind the app's port)",
    argv: [
      o.llamaServer,
      ...headServerArgs({ model: o.model, rpc, tensorSplit: o.tensorSplit, contextSize: o.contextSize, port: '<port>' }),
    ],
  });
  return out;
}
