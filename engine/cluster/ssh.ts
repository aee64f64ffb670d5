import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { OrchardError, messageOf } from '../core/errors.js';
import type { ClusterHost, ClusterPaths } from './hosts.js';

/**
 * Every ssh Orchard runs: its own key, its own known_hosts, StrictHostKeyChecking=yes (an unknown
 * or changed host key fails, never prompts), no agent, no X11, no user config (`-F /dev/null`), and
 * keep-alives so a dead link is noticed within ~15 s.
 */
export function sshOptions(paths: ClusterPaths, host: Pick<ClusterHost, 'port'>): string[] {
  // ssh reads an -o value like a config line: a path with spaces must be double-quoted there, and
  // a double quote cannot be written at all.
  if (paths.knownHosts.includes('"')) {
    throw new OrchardError('USAGE', 'ORCHARD_HOME contains a double quote, which ssh cannot be given as a file name', {
      where: paths.knownHosts,
      hint: 'Use an ORCHARD_HOME without " in its path.',
    });
  }
  return [
    '-F',
    '/dev/null',
    '-i',
    paths.key,
    '-p',
    String(host.port),
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile="${paths.knownHosts}"`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'ForwardAgent=no',
    '-o',
    'ForwardX11=no',
    '-o',
    'ServerAliveInterval=5',
    '-o',
    'ServerAliveCountMax=3',
    '-o',
    'ConnectTimeout=10',
  ];
}

/**
 * ssh joins the remote command's words with spaces and hands them to the peer's shell, so each word
 * is single-quoted here: the peer runs exactly this argv, whatever the words contain.
 */
export function remoteCommand(argv: readonly string[]): string {
  return argv.map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
}

/** argv of `ssh … host <argv on the peer>`. */
export function sshArgv(paths: ClusterPaths, host: ClusterHost, remote: readonly string[]): string[] {
  return ['ssh', ...sshOptions(paths, host), host.destination, '--', remoteCommand(remote)];
}

/** argv of the tunnel: local 127.0.0.1:localPort → the peer's 127.0.0.1:remotePort, nothing else. */
export function tunnelArgv(paths: ClusterPaths, host: ClusterHost, localPort: number | string, remotePort: number | string): string[] {
  return [
    'ssh',
    ...sshOptions(paths, host),
    '-N',
    '-T',
    '-o',
    'ExitOnForwardFailure=yes',
    '-L',
    `127.0.0.1:${localPort}:127.0.0.1:${remotePort}`,
    host.destination,
  ];
}

/** Create Orchard's own ed25519 key (once). Returns the public key line to put in the peer's authorized_keys. */
export async function ensureKey(paths: ClusterPaths): Promise<string> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  if (!existsSync(paths.key)) {
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'orchard-cluster', '-f', paths.key], { stdin: 'ignore' });
  }
  return (await readFile(`${paths.key}.pub`, 'utf8')).trim();
}

export interface ScannedKey {
  /** known_hosts lines for the host (as ssh-keyscan printed them). */
  lines: string[];
  /** SHA256 fingerprints, one per key type, e.g. `256 SHA256:… [127.0.0.1]:2222 (ED25519)`. */
  fingerprints: string[];
  /** The ed25519 key's `SHA256:…`, or the first key's. */
  fingerprint: string;
}

/** Read the host's keys (ssh-keyscan) and their fingerprints, for the user to approve once. */
export async function scanHostKey(destination: string, port: number): Promise<ScannedKey> {
  const hostOnly = destination.includes('@') ? destination.slice(destination.indexOf('@') + 1) : destination;
  let scanned: string;
  try {
    scanned = (await execa('ssh-keyscan', ['-T', '10', '-p', String(port), '-t', 'ed25519', hostOnly], { stdin: 'ignore' })).stdout;
  } catch (err) {
    throw new OrchardError('IO', `could not read ${hostOnly}'s SSH host key: ${messageOf(err)}`, {
      where: `${hostOnly}:${port}`,
      hint: 'Check that sshd runs on the peer and that the port is right (--port).',
    });
  }
  const lines = scanned.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  if (lines.length === 0)
    throw new OrchardError('IO', `${hostOnly}:${port} offered no ed25519 host key`, {
      hint: 'Is sshd running there, and does it have an ed25519 host key?',
    });
  const printed = (await execa('ssh-keygen', ['-l', '-E', 'sha256', '-f', '-'], { input: `${lines.join('\n')}\n` })).stdout;
  const fingerprints = printed.split('\n').filter(Boolean);
  const fingerprint = /SHA256:\S+/.exec(fingerprints[0] ?? '')?.[0];
  if (!fingerprint) throw new OrchardError('IO', `could not read the fingerprint of ${hostOnly}'s host key`);
  return { lines, fingerprints, fingerprint };
}

/** Add the approved key lines to Orchard's known_hosts (replacing earlier lines for the same host). */
export async function pinHostKey(paths: ClusterPaths, key: ScannedKey, destination: string, port: number): Promise<void> {
  const hostOnly = destination.includes('@') ? destination.slice(destination.indexOf('@') + 1) : destination;
  const label = port === 22 ? hostOnly : `[${hostOnly}]:${port}`;
  const old = existsSync(paths.knownHosts) ? (await readFile(paths.knownHosts, 'utf8')).split('\n') : [];
  const kept = old.filter((l) => l.trim() !== '' && l.split(' ')[0] !== label);
  await writeFile(paths.knownHosts, `${[...kept, ...key.lines].join('\n')}\n`, { mode: 0o600 });
}

/** Remove a host's lines from Orchard's known_hosts. */
export async function unpinHostKey(paths: ClusterPaths, destination: string, port: number): Promise<void> {
  if (!existsSync(paths.knownHosts)) return;
  const hostOnly = destination.includes('@') ? destination.slice(destination.indexOf('@') + 1) : destination;
  const label = port === 22 ? hostOnly : `[${hostOnly}]:${port}`;
  const kept = (await readFile(paths.knownHosts, 'utf8')).split('\n').filter((l) => l.trim() !== '' && l.split(' ')[0] !== label);
  await writeFile(paths.knownHosts, kept.length > 0 ? `${kept.join('\n')}\n` : '', { mode: 0o600 });
}
