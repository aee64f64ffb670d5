import { existsSync } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { freeLoopbackPort, waitForPort } from '../../engine/cluster/net.js';

/**
 * A real OpenSSH server on 127.0.0.1 for cluster tests (Debian's openssh-server): its own host key,
 * config and authorized_keys in a test folder, key login only, for the user running the tests.
 */
export interface TestSshd {
  port: number;
  /** `user@127.0.0.1` */
  destination: string;
  /** SHA256:… of its ed25519 host key, as the user would read it on the peer. */
  fingerprint: string;
  authorize(publicKeyLine: string): Promise<void>;
  stop(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';

export function sshdSkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'the loopback sshd test runs on Linux';
  if (!existsSync(SSHD)) return `${SSHD} is missing (apt-get install openssh-server)`;
  return undefined;
}

export async function startSshd(dir: string): Promise<TestSshd> {
  await mkdir(dir, { recursive: true });
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  const fingerprint = /SHA256:\S+/.exec((await execa('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`])).stdout)![0];
  const authorized = path.join(dir, 'authorized_keys');
  await writeFile(authorized, '', { mode: 0o600 });
  const port = await freeLoopbackPort();
  const user = os.userInfo().username;
  const config = path.join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey "${hostKey}"`, // quoted: test folders have spaces in their names
      `AuthorizedKeysFile "${authorized}"`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      'PidFile none',
      'AllowTcpForwarding local',
      'X11Forwarding no',
      'PrintMotd no',
      `AllowUsers ${user}`,
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  // sshd's privilege separation needs this folder (made by the service unit on a booted system).
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const child: ResultPromise = execa(SSHD, ['-D', '-e', '-f', config], { reject: false, stdin: 'ignore', all: true, buffer: true });
  let exited = false;
  void child.then(() => (exited = true));
  try {
    await waitForPort(port, { timeoutMs: 10_000, alive: () => !exited });
  } catch (err) {
    child.kill('SIGKILL');
    const r = await child;
    throw new Error(`sshd did not start: ${(err as Error).message}\n${String(r.all ?? '')}`);
  }
  return {
    port,
    destination: `${user}@127.0.0.1`,
    fingerprint,
    authorize: (line) => appendFile(authorized, `${line.trim()}\n`),
    async stop() {
      child.kill('SIGTERM');
      await child;
    },
  };
}
