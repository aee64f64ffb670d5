import { existsSync, readdirSync } from 'node:fs';
import { execa } from 'execa';
import { messageOf } from '../engine/core/errors.js';
import { findOnPath } from './find-on-path.js';
import { envSetting } from '../engine/core/env-settings.js';

export type ConfinementMechanism = 'bwrap' | 'sandbox-exec' | 'none';
export interface Confinement {
  available: boolean;
  mechanism: ConfinementMechanism;
  note: string;
}

let detected: Promise<Confinement> | undefined;

/**
 * What confinement this machine offers for run steps. Probed once per process: bwrap may be
 * installed yet unusable (no user namespaces in a container), and then we say so rather than fail.
 */
export function detectConfinement(): Promise<Confinement> {
  detected ??= probe();
  return detected;
}

async function probe(): Promise<Confinement> {
  if (envSetting('ORCHARD_NO_CONFINEMENT') === '1') {
    return { available: false, mechanism: 'none', note: 'confinement is turned off (ORCHARD_NO_CONFINEMENT=1), so run steps are not confined' };
  }
  if (process.platform === 'linux') {
    const bwrap = findOnPath('bwrap', process.env);
    if (!bwrap) {
      return { available: false, mechanism: 'none', note: 'bubblewrap (bwrap) is not installed, so run steps are not confined; install it (apt-get install bubblewrap) to limit their writes to the app folder' };
    }
    try {
      await execa(bwrap, [...BWRAP_BASE, '--', 'true'], { timeout: 10_000, stdin: 'ignore' });
      return { available: true, mechanism: 'bwrap', note: 'run steps can write only to the app folder and the store (bubblewrap: read-only root, private /dev and /proc)' };
    } catch (err) {
      const detail = (err as { stderr?: string }).stderr?.trim() || messageOf(err);
      return { available: false, mechanism: 'none', note: `bwrap is installed but cannot make a sandbox here (${detail}); user namespaces may be disabled, so run steps are not confined` };
    }
  }
  if (process.platform === 'darwin') {
    if (!existsSync(SANDBOX_EXEC)) return { available: false, mechanism: 'none', note: `${SANDBOX_EXEC} is missing, so run steps are not confined` };
    try {
      await execa(SANDBOX_EXEC, ['-p', '(version 1)\n(allow default)', '/usr/bin/true'], { timeout: 10_000, stdin: 'ignore' });
      return { available: true, mechanism: 'sandbox-exec', note: 'run steps can write only to the app folder, the store and temp (sandbox-exec profile)' };
    } catch (err) {
      return { available: false, mechanism: 'none', note: `sandbox-exec does not work here (${messageOf(err)}), so run steps are not confined` };
    }
  }
  return { available: false, mechanism: 'none', note: `no confinement is implemented on ${process.platform}; run steps are not confined` };
}

const SANDBOX_EXEC = '/usr/bin/sandbox-exec';
/** Read-only view of the whole system, fresh /dev (with a writable /dev/shm) and /proc. */
const BWRAP_BASE = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-pid', '--die-with-parent'];

export interface ConfineOptions {
  mechanism: ConfinementMechanism;
  /** Extra writable folders (the store, temp). Must exist and be real paths (no symlinks). */
  writable: string[];
  /** The app folder: always writable. */
  appRoot: string;
  /** false cuts the network (bwrap only). Default true. */
  network?: boolean;
  /** Working directory inside the sandbox. */
  cwd?: string;
  /** Host device nodes to pass through (bwrap's private /dev has none); default: the GPU's. */
  devices?: string[];
}

/** Wrap argv so that it runs confined; argv unchanged for mechanism 'none'. */
export function confineArgv(argv: string[], o: ConfineOptions): string[] {
  const writable = [...new Set([o.appRoot, ...o.writable])];
  if (o.mechanism === 'bwrap') {
    return [
      'bwrap',
      ...BWRAP_BASE,
      ...(o.devices ?? gpuDevices()).flatMap((dev) => ['--dev-bind-try', dev, dev]),
      ...writable.flatMap((dir) => ['--bind', dir, dir]),
      ...(o.network === false ? ['--unshare-net'] : []),
      ...(o.cwd ? ['--chdir', o.cwd] : []),
      '--',
      ...argv,
    ];
  }
  if (o.mechanism === 'sandbox-exec') {
    return [SANDBOX_EXEC, '-p', sandboxExecProfile(writable), ...argv];
  }
  return [...argv];
}

/** NVIDIA, DRM and ROCm device nodes: without them a confined step would silently lose the GPU. */
export function gpuDevices(): string[] {
  try {
    return readdirSync('/dev')
      .filter((name) => /^(nvidia.*|dri|kfd)$/.test(name))
      .sort()
      .map((name) => `/dev/${name}`);
  } catch {
    return [];
  }
}

/**
 * A macOS Seatbelt profile: everything allowed except writing files, which is limited to the
 * given folders, the system temp folders and the usual device files.
 */
export function sandboxExecProfile(writable: string[]): string {
  const quote = (p: string) => `"${p.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return [
    '(version 1)',
    '(allow default)',
    '(deny file-write*)',
    '(allow file-write*',
    ...writable.map((dir) => `  (subpath ${quote(dir)})`),
    '  (subpath "/private/tmp")',
    '  (subpath "/private/var/folders")',
    '  (literal "/dev/null")',
    '  (literal "/dev/zero")',
    '  (literal "/dev/dtracehelper")',
    '  (regex #"^/dev/tty")',
    '  (regex #"^/dev/fd/"))',
    '',
  ].join('\n');
}
