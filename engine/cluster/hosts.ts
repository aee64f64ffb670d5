import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeJsonAtomic } from '../core/atomic-write.js';
import { OrchardError } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';

/**
 * The cluster's hosts, kept in ORCHARD_HOME/cluster/ with Orchard's own SSH key and known_hosts
 * (never the user's ~/.ssh): pairing a host pins its key there, and every later connection uses
 * StrictHostKeyChecking=yes against that file only.
 */
export interface ClusterHost {
  /** Short name used on the command line and in the UI (unique). */
  name: string;
  /** ssh destination: [user@]host */
  destination: string;
  port: number;
  /** The pinned host key's SHA256 fingerprint, as `ssh-keygen -l` prints it. */
  fingerprint: string;
  /** argv that runs Orchard on the peer (default `orchard`); e.g. ["env", "ORCHARD_HOME=…", "node", "…/main.js"]. */
  orchard: string[];
  /** What the peer said about itself when it was added or last checked. */
  peer?: PeerInfo;
  /** Skip the SSH tunnel for the RPC port (a trusted direct cable, e.g. RDMA over Thunderbolt). Opt-in, red in the plan. */
  direct?: { address: string };
  /** The last `cluster doctor` measurement of the link, through SSH. */
  link?: { rttMs?: number; mibPerSecond?: number; checkedAt: string; error?: string };
  addedAt: string;
}

/** `orchard cluster self --json` on a peer. */
export interface PeerInfo {
  orchardVersion: string;
  engine: EngineBuild | null;
  /** Bytes the peer can give a model (Metal working set, usable VRAM, or RAM less the OS reserve). */
  budgetBytes: number;
  ramBytes: number;
  accelerator: string;
  platform: string;
}

/** A llama.cpp build, as its binaries report it. Every node must run the same one. */
export interface EngineBuild {
  /** `version: 1 (80fb11a)` → "1 (80fb11a)"; the RPC protocol version is `rpc`. */
  version: string;
  rpc?: string;
  binDir: string;
}

export interface ClusterPaths {
  dir: string;
  hostsFile: string;
  key: string;
  knownHosts: string;
  /** llama.cpp RPC tensor cache (ggml-rpc-server -c), kept in Orchard's folder. */
  rpcCache: string;
}

export function clusterPaths(home: OrchardHome): ClusterPaths {
  const dir = path.join(home.root, 'cluster');
  return {
    dir,
    hostsFile: path.join(dir, 'hosts.json'),
    key: path.join(dir, 'id_ed25519'),
    knownHosts: path.join(dir, 'known_hosts'),
    rpcCache: path.join(dir, 'rpc-cache'),
  };
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function assertHostName(name: string): void {
  if (!NAME.test(name)) {
    throw new OrchardError('USAGE', `"${name}" is not a usable cluster host name`, {
      hint: 'Use lowercase letters, digits, ".", "_" and "-" (e.g. studio-2), with --name.',
    });
  }
}

export async function readHosts(paths: ClusterPaths): Promise<ClusterHost[]> {
  let text: string;
  try {
    text = await readFile(paths.hostsFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as { hosts?: ClusterHost[] };
    return Array.isArray(parsed.hosts) ? parsed.hosts : [];
  } catch (err) {
    throw new OrchardError('IO', 'the cluster host list is not valid JSON', {
      where: paths.hostsFile,
      hint: 'Fix or delete the file, then add the hosts again.',
      cause: err,
    });
  }
}

export async function writeHosts(paths: ClusterPaths, hosts: ClusterHost[]): Promise<void> {
  await writeJsonAtomic(paths.hostsFile, { hosts }, 0o600);
}

export async function findHost(paths: ClusterPaths, name: string): Promise<ClusterHost> {
  const host = (await readHosts(paths)).find((h) => h.name === name);
  if (!host)
    throw new OrchardError('USAGE', `no cluster host named "${name}"`, {
      hint: 'List them with `orchard cluster ls`; add one with `orchard cluster add <ssh-host>`.',
    });
  return host;
}
