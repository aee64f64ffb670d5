import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { OrchardError, messageOf } from '../engine/core/errors.js';
import { writeJsonAtomic } from '../engine/core/atomic-write.js';
import type { EnvParams } from './env-params.js';
import { findOnPath } from './find-on-path.js';

/** Where an app environment keeps its executables (venv and node prefix alike). */
export function envBinDir(target: Pick<EnvParams, 'dir'> | { env: string }): string {
  const dir = 'dir' in target ? target.dir : target.env;
  return path.join(dir, process.platform === 'win32' && existsSync(path.join(dir, 'Scripts')) ? 'Scripts' : 'bin');
}

export interface EnvBuildOptions {
  /** Environment for the tools (sandboxed: caches and uv's Pythons land in the app folder). */
  env: Record<string, string>;
  signal?: AbortSignal;
  log: (line: string) => void;
  /** Wraps every tool's argv before it starts (the env step confines them: docs/confinement.md). */
  wrap?: (argv: string[]) => Promise<string[]>;
}

/** Written last: its presence (with matching settings) is what makes an env "complete". */
const MARKER = '.orchard-env.json';
interface Marker {
  type: EnvParams['type'];
  python?: string;
  manager: 'uv' | 'venv';
  version: string;
}

/**
 * Make the app's Python venv: `uv venv` when uv is available and allowed, else `python3 -m venv`.
 * A complete env with the same settings is kept; a half-made or different one is rebuilt.
 */
export async function ensurePythonEnv(
  params: EnvParams,
  o: EnvBuildOptions,
): Promise<{ kept: boolean; version: string; manager: 'uv' | 'venv' }> {
  const toolEnv = withoutAppEnv(o.env, params.dir);
  const existing = await readMarker(params.dir);
  if (existing && existing.type === 'python' && (!params.python || existing.python === params.python)) {
    const version = await pythonVersion(venvPython(params.dir), toolEnv, o).catch(() => undefined);
    if (version && version === existing.version) {
      o.log(`keeping the existing Python ${version} environment in ${params.dir}`);
      return { kept: true, version, manager: existing.manager };
    }
  }
  if (existsSync(params.dir)) o.log(`removing an incomplete or different environment in ${params.dir}`);
  await rm(params.dir, { recursive: true, force: true });

  const uv = findOnPath('uv', toolEnv);
  const manager = params.manager === 'venv' ? 'venv' : params.manager === 'uv' || uv ? 'uv' : 'venv';
  if (manager === 'uv') {
    if (!uv) {
      throw new OrchardError('REQUIREMENT', 'the recipe asks for uv to make its Python environment, but uv is not installed', {
        hint: 'Install uv (https://docs.astral.sh/uv/getting-started/installation/) or set "manager": "auto" in the env step.',
      });
    }
    // --seed puts pip in the venv, so recipes can `python -m pip install` whichever tool made it.
    const args = ['venv', '--seed', ...(params.python ? ['--python', params.python] : []), params.dir];
    await tool(uv, args, toolEnv, o);
  } else {
    const python = await findPython(params.python, toolEnv, o);
    await tool(python, ['-m', 'venv', params.dir], toolEnv, o);
  }
  const python = venvPython(params.dir);
  const version = await pythonVersion(python, toolEnv, o).catch((err: unknown) => {
    throw new OrchardError('STEP_FAILED', `the new environment in ${params.dir} has no working python: ${messageOf(err)}`, {
      hint: 'On Debian/Ubuntu install the venv module (apt-get install python3-venv), or install uv.',
    });
  });
  if (params.python && version !== params.python) {
    throw new OrchardError('REQUIREMENT', `the environment got Python ${version}, but the recipe asks for ${params.python}`, {
      hint: `Install Python ${params.python} or uv (which fetches it), then run install again.`,
    });
  }
  const marker: Marker = { type: 'python', ...(params.python ? { python: params.python } : {}), manager, version };
  await writeJsonAtomic(path.join(params.dir, MARKER), marker);
  o.log(`made a Python ${version} environment with ${manager} in ${params.dir}`);
  return { kept: false, version, manager };
}

export function venvPython(dir: string): string {
  return process.platform === 'win32' ? path.join(dir, 'Scripts', 'python.exe') : path.join(dir, 'bin', 'python');
}

/** A python whose major.minor is `want` (python3.X, then python3), or a clear error saying how to get it. */
async function findPython(
  want: string | undefined,
  env: Record<string, string>,
  o: Pick<EnvBuildOptions, 'signal' | 'wrap'>,
): Promise<string> {
  const names = want ? [`python${want}`, 'python3', 'python'] : ['python3', 'python'];
  const seen: string[] = [];
  for (const name of names) {
    const found = findOnPath(name, env);
    if (!found) continue;
    const version = await pythonVersion(found, env, o).catch(() => undefined);
    if (!version) continue;
    if (!want || version === want) return found;
    seen.push(`${found} is ${version}`);
  }
  if (!want) {
    throw new OrchardError('REQUIREMENT', 'no python3 found on PATH to make the app environment', {
      hint: 'Install Python 3 (with its venv module) or uv (https://docs.astral.sh/uv/), then run install again.',
    });
  }
  throw new OrchardError('REQUIREMENT', `the recipe needs Python ${want}, but ${seen.length ? seen.join(', ') : 'no python3 is on PATH'}`, {
    hint:
      `Install uv (https://docs.astral.sh/uv/), which fetches Python ${want} into the app folder, or install Python ${want} ` +
      `(e.g. apt-get install python${want}-venv, brew install python@${want}, pyenv install ${want}).`,
  });
}

async function pythonVersion(python: string, env: Record<string, string>, o: Pick<EnvBuildOptions, 'signal' | 'wrap'>): Promise<string> {
  const [file, ...args] = await wrapped([python, '-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], o);
  const { stdout } = await execa(file, args, {
    env,
    extendEnv: false,
    timeout: 30_000,
    ...(o.signal ? { cancelSignal: o.signal } : {}),
  });
  return stdout.trim();
}

async function tool(file: string, args: string[], env: Record<string, string>, o: EnvBuildOptions): Promise<void> {
  o.log(`$ ${[file, ...args].join(' ')}`);
  const [program, ...rest] = await wrapped([file, ...args], o);
  const result = await execa(program, rest, {
    env,
    extendEnv: false,
    all: true,
    reject: false,
    ...(o.signal ? { cancelSignal: o.signal } : {}),
  });
  for (const line of (result.all ?? '').split('\n')) if (line) o.log(line);
  if (result.isCanceled) throw new OrchardError('CANCELLED', `cancelled while running ${path.basename(file)}`);
  if (result.exitCode !== 0) {
    throw new OrchardError('STEP_FAILED', `\`${[file, ...args].join(' ')}\` exited with code ${result.exitCode ?? result.signal}`, {
      hint: 'See the step log for its output.',
    });
  }
}

async function wrapped(argv: [string, ...string[]], o: Pick<EnvBuildOptions, 'wrap'>): Promise<[string, ...string[]]> {
  if (!o.wrap) return argv;
  const [file, ...args] = await o.wrap(argv);
  if (file === undefined) throw new OrchardError('STEP_FAILED', 'the confined command is empty');
  return [file, ...args];
}

/** The tools that build the env must not run from the (half-made) env itself. */
export function withoutAppEnv(env: Record<string, string>, dir: string): Record<string, string> {
  const bin = envBinDir({ dir });
  const rest = { ...env };
  if (rest['VIRTUAL_ENV'] === dir) delete rest['VIRTUAL_ENV'];
  rest['PATH'] = (rest['PATH'] ?? '')
    .split(path.delimiter)
    .filter((d) => d && d !== bin)
    .join(path.delimiter);
  return rest;
}

async function readMarker(dir: string): Promise<Marker | undefined> {
  try {
    return JSON.parse(await readFile(path.join(dir, MARKER), 'utf8')) as Marker;
  } catch {
    return undefined;
  }
}
