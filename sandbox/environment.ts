import { existsSync } from 'node:fs';
import path from 'node:path';
import type { AppPaths, OrchardHome } from '../engine/core/home.js';

/**
 * Variables that hide real problems (a silent CPU fallback on Apple GPUs, unsafe pickle loading of
 * weights). Orchard never sets them; only a recipe's run-step `env` can, and the plan flags it.
 */
export const OPT_IN_ONLY_VARIABLES: readonly string[] = ['PYTORCH_ENABLE_MPS_FALLBACK', 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'];

/**
 * The variables that keep an app inside its own folder: home, XDG dirs, temp and every cache the
 * usual AI tooling writes to. `optIn` carries what the recipe explicitly asked for.
 */
export function sandboxVariables(app: AppPaths, home: OrchardHome, opts: { optIn?: Record<string, string> } = {}): Record<string, string> {
  const cache = (name: string) => path.join(app.cache, name);
  const vars: Record<string, string> = {
    HOME: app.home,
    USERPROFILE: app.home,
    XDG_CONFIG_HOME: path.join(app.home, '.config'),
    XDG_DATA_HOME: path.join(app.home, '.local', 'share'),
    XDG_STATE_HOME: path.join(app.home, '.local', 'state'),
    XDG_CACHE_HOME: app.cache,
    TMPDIR: app.tmp,
    TMP: app.tmp,
    TEMP: app.tmp,
    PIP_CACHE_DIR: cache('pip'),
    PIP_USER: '0',
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PYTHONNOUSERSITE: '1',
    UV_CACHE_DIR: cache('uv'),
    // Not under cache/: venvs made by uv point at these interpreters, so clearing caches must not break them.
    UV_PYTHON_INSTALL_DIR: path.join(app.home, '.local', 'share', 'uv', 'python'),
    HF_HOME: cache('huggingface'),
    TORCH_HOME: cache('torch'),
    npm_config_cache: cache('npm'),
    ORCHARD_APP_ID: app.id,
    ORCHARD_APP_ROOT: app.root,
    ORCHARD_APP_DIR: app.app,
    ORCHARD_ENV_DIR: app.env,
    ORCHARD_MODELS_DIR: app.models,
    ORCHARD_STORE: home.store,
  };
  // PYTHONDONTWRITEBYTECODE is deliberately not set: bytecode lands inside the app's env anyway and
  // saves seconds on every start.
  return { ...vars, ...(opts.optIn ?? {}) };
}

/** Parent variables a process may inherit: locale, terminal, certificates, proxies, GPU selection. */
const INHERITED = new Set([
  'PATH',
  'LANG',
  'LANGUAGE',
  'TERM',
  'COLORTERM',
  'TERM_PROGRAM',
  'TZ',
  'USER',
  'LOGNAME',
  'SHELL',
  'NO_COLOR',
  'FORCE_COLOR',
  'CI',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'NODE_EXTRA_CA_CERTS',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'all_proxy',
  'DISPLAY',
  'WAYLAND_DISPLAY',
  'XDG_RUNTIME_DIR',
  'CUDA_VISIBLE_DEVICES',
  'NVIDIA_VISIBLE_DEVICES',
  'NVIDIA_DRIVER_CAPABILITIES',
  'HIP_VISIBLE_DEVICES',
  'ROCR_VISIBLE_DEVICES',
  'CUDA_HOME',
  'CUDA_PATH',
  'LD_LIBRARY_PATH',
  'DYLD_FALLBACK_LIBRARY_PATH',
  'SYSTEMROOT',
  'SystemRoot',
  'COMSPEC',
  'WINDIR',
  'PATHEXT',
]);
const INHERITED_PREFIXES = ['LC_'];
/** Never inherited even when a rule above would let them through. */
const SECRET = /TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|PRIVATE/i;

/**
 * The full environment of an app's process: a filtered parent environment (no PYTHONPATH,
 * VIRTUAL_ENV, CONDA_*, tokens…), the sandbox variables over it, the app env's bin dir first on
 * PATH, VIRTUAL_ENV when that env is a Python venv, then `extra` (e.g. a run step's `env`).
 */
export function processEnvironment(
  sandboxVars: Record<string, string>,
  opts: { envBinDir?: string; extra?: Record<string, string>; parent?: NodeJS.ProcessEnv } = {},
): Record<string, string> {
  const parent = opts.parent ?? process.env;
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined || SECRET.test(name)) continue;
    if (INHERITED.has(name) || INHERITED_PREFIXES.some((p) => name.startsWith(p))) env[name] = value;
  }
  // The user's own activated venv/conda must not shadow the app's interpreter.
  const foreignBins = [parent['VIRTUAL_ENV'], parent['CONDA_PREFIX']]
    .filter((p): p is string => typeof p === 'string' && p !== '')
    .map((p) => path.join(p, 'bin'));
  const pathDirs = (env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin')
    .split(path.delimiter)
    .filter((d) => d !== '' && !foreignBins.includes(d) && d !== opts.envBinDir);
  Object.assign(env, sandboxVars);
  if (opts.envBinDir) {
    pathDirs.unshift(opts.envBinDir);
    const envDir = path.dirname(opts.envBinDir);
    if (existsSync(path.join(envDir, 'pyvenv.cfg'))) env['VIRTUAL_ENV'] = envDir;
  }
  env['PATH'] = pathDirs.join(path.delimiter);
  return { ...env, ...(opts.extra ?? {}) };
}
