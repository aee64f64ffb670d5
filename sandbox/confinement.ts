import { existsSync, mkdirSync, readdirSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { messageOf } from '../engine/core/errors.js';
import { isInside } from '../engine/core/home.js';
import { repoRoot } from '../engine/core/repo-root.js';
import { findOnPath } from './find-on-path.js';
import { envSetting } from '../engine/core/env-settings.js';

/**
 * The confinement contract (docs/confinement.md, DESIGN §9). Every process whose command, arguments
 * or working tree come from a recipe — run steps, verify probes, git, env creation, recipe services —
 * is started through `confinedCommand`, and sees:
 *   - its app folder read-write, except its `models/`, `state.json`, `.lock` and `logs/` (read-only);
 *   - the store, its recipe folder and the toolchains read-only;
 *   - nothing else of ORCHARD_HOME (orchard.json, server.json, other apps, recipes/) and nothing of the
 *     user's home: both are covered by an empty tmpfs before the allowed parts are bound back;
 *   - the network only when the step declares it (a service always shares it: it must listen on loopback);
 *   - the GPU device nodes; no daemon sockets of /run (docker, the system bus…).
 */
export type ConfinementMechanism = 'bwrap' | 'sandbox-exec' | 'none';
export interface Confinement {
  available: boolean;
  mechanism: ConfinementMechanism;
  note: string;
}

/** The kinds of recipe-driven process (each is confined the same way; the kind is for logs and the plan). */
export type ProcessKind = 'run' | 'probe' | 'git' | 'env' | 'service';

let detected: Promise<Confinement> | undefined;

/**
 * What confinement this machine offers. Probed once per process: bwrap may be installed yet
 * unusable (no user namespaces in a container), and then we say so rather than fail.
 */
export function detectConfinement(): Promise<Confinement> {
  detected ??= probe();
  return detected;
}

/** True when the user turned confinement off on purpose (ORCHARD_NO_CONFINEMENT=1): that counts as --allow-unconfined. */
export function confinementDisabledByUser(env: NodeJS.ProcessEnv = process.env): boolean {
  return envSetting('ORCHARD_NO_CONFINEMENT', env) === '1';
}

async function probe(): Promise<Confinement> {
  if (confinementDisabledByUser()) {
    return {
      available: false,
      mechanism: 'none',
      note: 'confinement is turned off (ORCHARD_NO_CONFINEMENT=1), so recipe processes are not confined',
    };
  }
  if (process.platform === 'linux') {
    const bwrap = findOnPath('bwrap', process.env);
    if (!bwrap) {
      return {
        available: false,
        mechanism: 'none',
        note: 'bubblewrap (bwrap) is not installed, so recipe processes cannot be confined; install it (apt-get install bubblewrap)',
      };
    }
    try {
      await execa(bwrap, [...BWRAP_BASE, '--', 'true'], { timeout: 10_000, stdin: 'ignore' });
      return {
        available: true,
        mechanism: 'bwrap',
        note: 'bubblewrap: app folder writable; store, models, recipe and toolchains read-only; rest of ORCHARD_HOME and your home hidden',
      };
    } catch (err) {
      const detail = (err as { stderr?: string }).stderr?.trim() || messageOf(err);
      return {
        available: false,
        mechanism: 'none',
        note:
          `bwrap is installed but cannot make a sandbox here (${detail}); user namespaces may be disabled, so recipe ` +
          'processes cannot be confined',
      };
    }
  }
  if (process.platform === 'darwin') {
    if (!existsSync(SANDBOX_EXEC))
      return { available: false, mechanism: 'none', note: `${SANDBOX_EXEC} is missing, so recipe processes cannot be confined` };
    try {
      await execa(SANDBOX_EXEC, ['-p', '(version 1)\n(allow default)', '/usr/bin/true'], { timeout: 10_000, stdin: 'ignore' });
      return {
        available: true,
        mechanism: 'sandbox-exec',
        note: 'sandbox-exec profile: app folder and temp writable; rest of ORCHARD_HOME and your home unreadable',
      };
    } catch (err) {
      return {
        available: false,
        mechanism: 'none',
        note: `sandbox-exec does not work here (${messageOf(err)}), so recipe processes cannot be confined`,
      };
    }
  }
  return {
    available: false,
    mechanism: 'none',
    note: `no confinement is implemented on ${process.platform}, so recipe processes cannot be confined`,
  };
}

const SANDBOX_EXEC = '/usr/bin/sandbox-exec';
/** Read-only view of the system, fresh /dev (with a writable /dev/shm) and /proc, own pid namespace and session. */
const BWRAP_BASE = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-pid', '--die-with-parent', '--new-session'];
/**
 * A service outlives the server that started it (a crashed `orchard serve` re-adopts its apps), so
 * it is not tied to its parent; the supervisor's stop (process group, run marker) ends it instead.
 */
const BWRAP_SERVICE_BASE = BWRAP_BASE.filter((a) => a !== '--die-with-parent');

/** What one app's confined process may see, as absolute paths (made real by `resolveScope`). */
export interface SandboxScope {
  /** ORCHARD_HOME: hidden, except the parts below. */
  orchardHome: string;
  /** The shared model store: read-only. */
  store: string;
  /** apps/<id>: read-write, except `models/`, `state.json`, `.lock`, `logs/` and `readOnlyInApp`. */
  appRoot: string;
  /** The recipe's own folder: read-only. */
  recipeDir?: string;
  /** The user's home: hidden. Default os.homedir(). */
  userHome?: string;
  /** More read-only paths inside the app folder (weights linked outside models/). */
  readOnlyInApp?: string[];
  /** More read-only paths anywhere (a local git source). Ignored when inside ORCHARD_HOME or the user's home. */
  readOnly?: string[];
  /**
   * Paths Orchard itself or the user (never the recipe) gives this process: the llama.cpp engine's
   * bin folder (in another app's folder), a LoRA data folder the user named. Read-only, even inside
   * ORCHARD_HOME or the home; never a folder that holds either.
   */
  granted?: string[];
  /**
   * Toolchains (Orchard's own install, the node running it, PATH folders): bound back read-only when
   * the user's home would hide them. Default: `defaultToolchains()`.
   */
  toolchains?: string[];
}

export interface ConfineOptions {
  mechanism: ConfinementMechanism;
  scope: SandboxScope;
  /** false cuts the network. */
  network: boolean;
  /** Working directory inside the sandbox. */
  cwd?: string;
  /** Host device nodes to pass through (bwrap's private /dev has none); default: the GPU's. */
  devices?: string[];
  /** A long-running service: not killed with its parent (see BWRAP_SERVICE_BASE). */
  service?: boolean;
}

/** The real folder of /etc/resolv.conf when it lives under /run (systemd-resolved, resolvconf): DNS needs it. */
function resolverDir(): string | undefined {
  try {
    const real = realpathSync('/etc/resolv.conf');
    return isInside('/run', real) ? path.dirname(real) : undefined;
  } catch {
    return undefined;
  }
}

export interface ConfinedCommand {
  argv: string[];
  confined: boolean;
  mechanism: ConfinementMechanism;
  network: boolean;
  /** One line for the step log: how this process runs. */
  describe: string;
}

/**
 * THE entry point: wrap `argv` so that it runs under the contract on this machine. When confinement
 * is unavailable the argv is returned unchanged and `confined` is false (the installer has already
 * refused unless the user allowed unconfined steps).
 */
export async function confinedCommand(
  kind: ProcessKind,
  argv: string[],
  o: {
    scope: SandboxScope;
    network: boolean;
    cwd?: string;
    confinement?: Confinement;
    /** Outlive the parent (default: for kind 'service', which a restarted server re-adopts). */
    outliveParent?: boolean;
  },
): Promise<ConfinedCommand> {
  const confinement = o.confinement ?? (await detectConfinement());
  if (!confinement.available) {
    return { argv: [...argv], confined: false, mechanism: 'none', network: true, describe: `not confined (${kind}): ${confinement.note}` };
  }
  // The app folder always exists for a real step; make sure, since bwrap cannot bind a missing source.
  mkdirSync(o.scope.appRoot, { recursive: true });
  const scope = resolveScope(o.scope);
  const cwd = o.cwd ? realExistingSync(o.cwd) : undefined;
  const wrapped = confineArgv(argv, {
    mechanism: confinement.mechanism,
    scope,
    network: o.network,
    ...(cwd ? { cwd } : {}),
    ...((o.outliveParent ?? kind === 'service') ? { service: true } : {}),
  });
  return {
    argv: wrapped,
    confined: true,
    mechanism: confinement.mechanism,
    network: o.network,
    describe: `confined: ${confinement.mechanism} (${kind}; network ${o.network ? 'allowed' : 'cut'})`,
  };
}

/** Wrap argv for a mechanism (pure, for tests); argv unchanged for 'none'. Paths must already be real. */
export function confineArgv(argv: string[], o: ConfineOptions): string[] {
  if (o.mechanism === 'bwrap') return ['bwrap', ...bwrapArgs(o), '--', ...argv];
  if (o.mechanism === 'sandbox-exec') return [SANDBOX_EXEC, '-p', sandboxExecProfile(o.scope, { network: o.network }), ...argv];
  return [...argv];
}

/** Where a path is hidden: the user's home and ORCHARD_HOME (never "/"). */
function hiddenRoots(scope: SandboxScope): string[] {
  const roots = [scope.userHome ?? os.homedir(), scope.orchardHome].filter((p) => p !== '' && path.resolve(p) !== path.parse(p).root);
  return [...new Set(roots)];
}

function appReadOnly(scope: SandboxScope): string[] {
  const app = scope.appRoot;
  return [
    path.join(app, 'models'),
    path.join(app, 'state.json'),
    path.join(app, '.lock'),
    path.join(app, 'logs'),
    ...(scope.readOnlyInApp ?? []),
  ].filter((p) => isInside(app, p));
}

/**
 * The bubblewrap arguments. Mount order matters (a later mount covers an earlier one): the system
 * read-only; then an empty tmpfs over the user's home, with toolchains inside it bound back read-only;
 * then an empty tmpfs over ORCHARD_HOME; then the store and recipe read-only, the app folder
 * read-write, and last its read-only parts (a hardlinked blob in models/ is thus read-only by that
 * path, and a hardlink cannot be made across mounts, so by no other path either).
 */
export function bwrapArgs(o: ConfineOptions): string[] {
  const { scope } = o;
  const userHome = scope.userHome ?? os.homedir();
  const args = [...(o.service ? BWRAP_SERVICE_BASE : BWRAP_BASE)];
  for (const dev of o.devices ?? gpuDevices()) args.push('--dev-bind-try', dev, dev);
  const hidden = hiddenRoots(scope);
  const roBind = (p: string) => args.push('--ro-bind-try', p, p);
  // /run holds daemon sockets (docker, containerd, the system bus, databases) that a read-only mount
  // does not stop a client from using: an empty /run, with only the resolver's folder bound back.
  args.push('--tmpfs', '/run');
  const resolver = resolverDir();
  if (resolver) roBind(resolver);
  if (hidden.includes(userHome)) {
    args.push('--tmpfs', userHome);
    for (const tool of scope.toolchains ?? defaultToolchains()) {
      // Inside the home, not the home itself (a PATH entry can be $HOME), not inside ORCHARD_HOME.
      if (isInside(userHome, tool) && tool !== userHome && !hidden.some((h) => h !== userHome && isInside(h, tool))) roBind(tool);
    }
  }
  if (hidden.includes(scope.orchardHome) && scope.orchardHome !== userHome) args.push('--tmpfs', scope.orchardHome);
  const runtime = process.env['XDG_RUNTIME_DIR'];
  if (runtime && path.isAbsolute(runtime) && existsSync(runtime) && !isInside('/run', runtime)) args.push('--tmpfs', runtime);
  roBind(scope.store);
  // A recipe folder that holds the home or ORCHARD_HOME (a recipe.json saved in ~) would expose them: not bound.
  if (scope.recipeDir && !hidden.some((h) => isInside(scope.recipeDir ?? '', h))) roBind(scope.recipeDir);
  for (const p of scope.readOnly ?? []) if (!hidden.some((h) => isInside(h, p) || isInside(p, h))) roBind(p);
  for (const p of scope.granted ?? []) if (!hidden.some((h) => isInside(p, h))) roBind(p);
  args.push('--bind', scope.appRoot, scope.appRoot);
  for (const p of appReadOnly(scope)) roBind(p);
  if (!o.network) args.push('--unshare-net');
  if (o.cwd) args.push('--chdir', o.cwd);
  return args;
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
 * Orchard's own install (the llm probe and the bundled services run its code), the node running it,
 * and the folders on PATH (with their prefix when they are a `bin/` beside a `lib/`, e.g. ~/.pyenv/bin).
 */
export function defaultToolchains(env: NodeJS.ProcessEnv = process.env): string[] {
  const found = new Set<string>();
  const add = (p: string) => {
    if (p && path.isAbsolute(p) && existsSync(p)) found.add(realExistingSync(p));
  };
  add(orchardInstallDir());
  add(path.dirname(path.dirname(process.execPath)));
  const home = os.homedir();
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue;
    add(dir);
    const parent = path.dirname(dir);
    // An interpreter's prefix (~/.pyenv, ~/.nvm/versions/node/v20…) holds its libraries; a plain
    // folder of binaries (~/.cargo/bin, next to credentials) is bound alone.
    const prefix = ['lib', 'lib64', 'libexec'].some((sub) => existsSync(path.join(parent, sub)));
    if (path.basename(dir) === 'bin' && prefix && parent !== home && parent !== path.join(home, '.local')) add(parent);
  }
  return [...found];
}

function orchardInstallDir(): string {
  try {
    return repoRoot();
  } catch {
    return '';
  }
}

/** Every path of a scope made real (a symlinked /tmp or home must be bound by its real path). */
export function resolveScope(scope: SandboxScope): SandboxScope {
  const real = (p: string) => realExistingSync(p);
  return {
    orchardHome: real(scope.orchardHome),
    store: real(scope.store),
    appRoot: real(scope.appRoot),
    // A home that does not exist has nothing to hide (and bwrap could not mount over it).
    userHome: existsSync(scope.userHome ?? os.homedir()) ? real(scope.userHome ?? os.homedir()) : '',
    ...(scope.recipeDir ? { recipeDir: real(scope.recipeDir) } : {}),
    ...(scope.readOnlyInApp ? { readOnlyInApp: scope.readOnlyInApp.map(real) } : {}),
    ...(scope.readOnly ? { readOnly: scope.readOnly.map(real) } : {}),
    ...(scope.granted ? { granted: scope.granted.map(real) } : {}),
    toolchains: (scope.toolchains ?? defaultToolchains()).map(real),
  };
}

/** realpath of the nearest existing ancestor, with the missing tail appended unchanged. */
function realExistingSync(p: string): string {
  const tail: string[] = [];
  let current = path.resolve(p);
  for (;;) {
    try {
      return path.join(realpathSync(current), ...tail.reverse());
    } catch {
      const up = path.dirname(current);
      if (up === current) return path.resolve(p);
      tail.push(path.basename(current));
      current = up;
    }
  }
}

/** A string literal in SBPL (a Scheme-like syntax): backslashes and double quotes escaped. */
export function sbplString(p: string): string {
  return `"${p.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The macOS Seatbelt (sandbox-exec) profile of the contract. In SBPL the LAST matching rule wins,
 * so every rule is followed by its exceptions: reads of the user's home and ORCHARD_HOME are denied,
 * then re-allowed for the app, store, recipe and toolchains (and the metadata of their ancestors, so
 * realpath works); writes are denied everywhere, then allowed in the app folder, temp and the usual
 * devices, then denied again for the app's read-only parts; hardlinks to the store or those parts are
 * denied (`file-link`); IP network traffic is denied unless declared.
 */
export function sandboxExecProfile(scope: SandboxScope, o: { network: boolean }): string {
  const q = sbplString;
  const hidden = hiddenRoots(scope);
  // Re-allowed inside the hidden roots; never a folder that holds one (that would undo the deny).
  const readable = [
    scope.appRoot,
    scope.store,
    ...(scope.recipeDir ? [scope.recipeDir] : []),
    ...(scope.toolchains ?? []),
    ...(scope.granted ?? []),
  ].filter((p) => hidden.some((h) => isInside(h, p)) && !hidden.some((h) => isInside(p, h)));
  const ancestors = new Set<string>();
  for (const p of readable) {
    for (let dir = path.dirname(p); dir !== path.dirname(dir); dir = path.dirname(dir))
      if (hidden.some((h) => isInside(h, dir))) ancestors.add(dir);
  }
  const lines = ['(version 1)', '(allow default)'];
  if (hidden.length > 0) {
    lines.push('(deny file-read* file-write*', ...hidden.map((h) => `  (subpath ${q(h)})`));
    lines[lines.length - 1] += ')';
  }
  if (readable.length > 0) {
    lines.push('(allow file-read*', ...readable.map((p) => `  (subpath ${q(p)})`));
    lines[lines.length - 1] += ')';
  }
  if (ancestors.size > 0) {
    lines.push('(allow file-read-metadata', ...[...ancestors].sort().map((p) => `  (literal ${q(p)})`));
    lines[lines.length - 1] += ')';
  }
  lines.push(
    '(deny file-write*)',
    '(allow file-write*',
    `  (subpath ${q(scope.appRoot)})`,
    '  (subpath "/private/tmp")',
    '  (subpath "/private/var/folders")',
    '  (literal "/dev/null")',
    '  (literal "/dev/zero")',
    '  (literal "/dev/dtracehelper")',
    '  (regex #"^/dev/tty")',
    '  (regex #"^/dev/fd/"))',
    '(deny file-write*',
    ...appReadOnly(scope).map((p) => `  (subpath ${q(p)})`),
  );
  lines[lines.length - 1] += ')';
  // A hardlink to a blob (through models/ or the store) would be a writable path to it.
  lines.push('(deny file-link', `  (subpath ${q(scope.store)})`, ...appReadOnly(scope).map((p) => `  (subpath ${q(p)})`));
  lines[lines.length - 1] += ')';
  // Unix sockets stay allowed (local IPC); IP traffic, loopback included, is cut.
  if (!o.network) lines.push('(deny network-outbound (remote ip))', '(deny network-inbound (local ip))');
  return `${lines.join('\n')}\n`;
}

/** The scope of one app: ORCHARD_HOME hidden but for the store (read-only) and this app (read-write). */
export function appScope(
  home: { root: string; store: string },
  app: { root: string },
  o: { recipeDir?: string; readOnlyInApp?: string[]; readOnly?: string[]; granted?: string[] } = {},
): SandboxScope {
  return {
    orchardHome: home.root,
    store: home.store,
    appRoot: app.root,
    ...(o.recipeDir ? { recipeDir: o.recipeDir } : {}),
    ...(o.readOnlyInApp ? { readOnlyInApp: o.readOnlyInApp } : {}),
    ...(o.readOnly ? { readOnly: o.readOnly } : {}),
    ...(o.granted ? { granted: o.granted } : {}),
  };
}
