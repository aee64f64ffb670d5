import { execa } from 'execa';
import { OrchardError, messageOf } from '../core/errors.js';
import type { OrchardHome } from '../core/home.js';
import { engineBinaries, engineBuild } from './engine-build.js';
import {
  assertHostName,
  clusterPaths,
  readHosts,
  writeHosts,
  type ClusterHost,
  type ClusterPaths,
  type EngineBuild,
  type PeerInfo,
} from './hosts.js';
import { ensureKey, pinHostKey, scanHostKey, sshArgv, unpinHostKey, type ScannedKey } from './ssh.js';

export interface AddHostOptions {
  home: OrchardHome;
  destination: string;
  port: number;
  name?: string;
  orchard: string[];
  /**
   * The user's approval of the host key: the exact fingerprint they expect, or a callback that
   * shows the scanned one and answers yes or no (the CLI asks on a terminal).
   */
  approve: string | ((key: ScannedKey) => Promise<boolean>);
  /** Opt-in trusted direct cable: the peer's address on a point-to-point link (no tunnel). */
  directCable?: string;
  env?: NodeJS.ProcessEnv;
}

export interface AddHostResult {
  host: ClusterHost;
  publicKey: string;
  warnings: string[];
}

/**
 * `orchard cluster add`: make Orchard's key, read the peer's host key and pin it once approved,
 * log in with StrictHostKeyChecking=yes, and ask the peer's Orchard what it runs (same engine
 * build required) and how much memory it can give.
 */
export async function addHost(o: AddHostOptions): Promise<AddHostResult> {
  const paths = clusterPaths(o.home);
  const name = o.name ?? o.destination.replace(/^.*@/, '').toLowerCase();
  assertHostName(name);
  const hosts = await readHosts(paths);
  if (hosts.some((h) => h.name === name))
    throw new OrchardError('USAGE', `a cluster host named "${name}" exists already`, {
      hint: `Remove it first (orchard cluster rm ${name}) or pick another --name.`,
    });
  const publicKey = await ensureKey(paths);

  const scanned = await scanHostKey(o.destination, o.port);
  const approved = typeof o.approve === 'string' ? o.approve === scanned.fingerprint : await o.approve(scanned);
  if (!approved) {
    throw new OrchardError('AUTH', `the host key of ${o.destination} was not approved (it is ${scanned.fingerprint})`, {
      hint:
        typeof o.approve === 'string'
          ? `The fingerprint given (${o.approve}) does not match. Check it on the peer with: ssh-keygen -lf ` +
            '/etc/ssh/ssh_host_ed25519_key.pub'
          : 'Compare it with the peer (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and run the command again.',
    });
  }
  await pinHostKey(paths, scanned, o.destination, o.port);

  const host: ClusterHost = {
    name,
    destination: o.destination,
    port: o.port,
    fingerprint: scanned.fingerprint,
    orchard: o.orchard,
    ...(o.directCable ? { direct: { address: o.directCable } } : {}),
    addedAt: new Date().toISOString(),
  };
  const peer = await askPeer(paths, host, o.env ?? process.env, publicKey);
  const warnings = await compareBuilds(o.home, peer, name, o.env ?? process.env);
  host.peer = peer;
  await writeHosts(paths, [...hosts, host]);
  return { host, publicKey, warnings };
}

/** Run `orchard cluster self --json` on the peer. */
export async function askPeer(paths: ClusterPaths, host: ClusterHost, env: NodeJS.ProcessEnv, publicKey?: string): Promise<PeerInfo> {
  const [file, ...args] = sshArgv(paths, host, [...host.orchard, 'cluster', 'self', '--json']) as [string, ...string[]];
  const r = await execa(file, args, { env, reject: false, stdin: 'ignore', timeout: 60_000 });
  if (r.exitCode === 255) {
    const denied = /Permission denied|publickey/i.test(r.stderr);
    throw new OrchardError('AUTH', `cannot log in to ${host.destination}: ${r.stderr.trim().split('\n').pop() ?? 'ssh failed'}`, {
      where: `${host.destination}:${host.port}`,
      hint:
        denied && publicKey
          ? `Add Orchard's key to the peer's ~/.ssh/authorized_keys, then run the command again:\n  ${publicKey}`
          : 'Check that the peer is reachable and that its host key has not changed (Orchard never accepts a changed key silently).',
    });
  }
  if (r.exitCode !== 0) {
    throw new OrchardError(
      'SERVICE',
      `Orchard did not answer on ${host.destination} (exit ${r.exitCode}): ${r.stderr.trim().split('\n').pop() ?? ''}`,
      {
        hint: `Install Orchard on the peer, or tell Orchard how to run it there with --orchard (now: ${host.orchard.join(' ')}).`,
      },
    );
  }
  try {
    return JSON.parse(r.stdout) as PeerInfo;
  } catch (err) {
    throw new OrchardError('SERVICE', `the peer's Orchard printed something that is not its report: ${messageOf(err)}`, {
      where: host.destination,
    });
  }
}

/** Every node must run the same llama.cpp build (ggml-rpc refuses another major, or a newer minor). */
async function compareBuilds(home: OrchardHome, peer: PeerInfo, name: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  let local: EngineBuild;
  try {
    local = await engineBuild(engineBinaries(home, env));
  } catch {
    return [
      'The llama.cpp engine is not installed on this machine yet: install it (orchard install llamacpp-engine) before running a ' +
        'model on the cluster.',
    ];
  }
  if (!peer.engine) return [`${name} has no llama.cpp engine yet: run \`orchard install llamacpp-engine\` there.`];
  if (peer.engine.version !== local.version) {
    throw new OrchardError('REQUIREMENT', `${name} runs llama.cpp ${peer.engine.version}, this machine ${local.version}`, {
      hint: 'Every node needs the same build: update Orchard on both and run `orchard install llamacpp-engine --force` on each.',
    });
  }
  return [];
}

export async function removeHost(home: OrchardHome, name: string): Promise<ClusterHost> {
  const paths = clusterPaths(home);
  const hosts = await readHosts(paths);
  const host = hosts.find((h) => h.name === name);
  if (!host) throw new OrchardError('USAGE', `no cluster host named "${name}"`, { hint: 'List them with `orchard cluster ls`.' });
  await writeHosts(
    paths,
    hosts.filter((h) => h !== host),
  );
  if (!hosts.some((h) => h !== host && h.destination === host.destination && h.port === host.port))
    await unpinHostKey(paths, host.destination, host.port);
  return host;
}
