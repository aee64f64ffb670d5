import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { appPaths, isInside, resolveHome } from '../../engine/core/home.js';
import { OPT_IN_ONLY_VARIABLES, processEnvironment, sandboxVariables } from '../../sandbox/environment.js';
import { ensureAppLayout } from '../../sandbox/layout.js';
import { envBinDir } from '../../sandbox/python-env.js';
import { tempDir } from '../helpers/paths.js';

const home = resolveHome({ ORCHARD_HOME: '/data/Orchard Home' });
const app = appPaths(home, 'my-app');

test('every sandbox path variable points inside the app folder; opt-in variables are never set', () => {
  const vars = sandboxVariables(app, home);
  const pathVars = [
    'HOME',
    'XDG_CONFIG_HOME',
    'XDG_CACHE_HOME',
    'XDG_DATA_HOME',
    'XDG_STATE_HOME',
    'TMPDIR',
    'TMP',
    'TEMP',
    'PIP_CACHE_DIR',
    'UV_CACHE_DIR',
    'UV_PYTHON_INSTALL_DIR',
    'HF_HOME',
    'TORCH_HOME',
    'npm_config_cache',
    'ORCHARD_APP_DIR',
  ];
  for (const name of pathVars) {
    assert.ok(vars[name], `${name} is set`);
    assert.ok(isInside(app.root, vars[name]!), `${name}=${vars[name]} inside ${app.root}`);
  }
  assert.equal(vars['HOME'], app.home);
  assert.equal(vars['TMPDIR'], app.tmp);
  assert.equal(vars['ORCHARD_APP_DIR'], app.app);
  assert.equal(vars['PYTHONNOUSERSITE'], '1');
  assert.equal(vars['PIP_USER'], '0');
  assert.deepEqual([...OPT_IN_ONLY_VARIABLES].sort(), ['PYTORCH_ENABLE_MPS_FALLBACK', 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD']);
  for (const name of OPT_IN_ONLY_VARIABLES) assert.equal(name in vars, false, `${name} is not set by default`);
  const opted = sandboxVariables(app, home, { optIn: { PYTORCH_ENABLE_MPS_FALLBACK: '1' } });
  assert.equal(opted['PYTORCH_ENABLE_MPS_FALLBACK'], '1');
  assert.equal('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' in opted, false);
});

test("the process environment keeps locale, certificates and proxies but drops the user's Python setup and secrets", () => {
  const parent = {
    PATH: '/home/u/venv/bin:/opt/conda/bin:/usr/local/bin:/usr/bin',
    LANG: 'de_DE.UTF-8',
    LC_ALL: 'de_DE.UTF-8',
    TERM: 'xterm',
    SSL_CERT_FILE: '/etc/ssl/cert.pem',
    HTTPS_PROXY: 'http://proxy:3128',
    PYTHONPATH: '/home/u/lib',
    PYTHONHOME: '/usr',
    VIRTUAL_ENV: '/home/u/venv',
    CONDA_PREFIX: '/opt/conda',
    CONDA_DEFAULT_ENV: 'base',
    HF_TOKEN: 'hf_secret',
    GITHUB_TOKEN: 'ghp_x',
    AWS_SECRET_ACCESS_KEY: 'x',
    OPENAI_API_KEY: 'sk',
    NODE_OPTIONS: '--require evil.js',
    PIP_INDEX_URL: 'https://example.invalid',
    HOME: '/home/u',
    PYTORCH_ENABLE_MPS_FALLBACK: '1',
    LC_SECRET_TOKEN: 'x',
  };
  const bin = envBinDir(app);
  const env = processEnvironment(sandboxVariables(app, home), { envBinDir: bin, parent, extra: { MY_FLAG: 'on' } });
  for (const kept of ['LANG', 'LC_ALL', 'TERM', 'SSL_CERT_FILE', 'HTTPS_PROXY'])
    assert.equal(env[kept], parent[kept as keyof typeof parent], kept);
  for (const dropped of [
    'PYTHONPATH',
    'PYTHONHOME',
    'VIRTUAL_ENV',
    'CONDA_PREFIX',
    'CONDA_DEFAULT_ENV',
    'HF_TOKEN',
    'GITHUB_TOKEN',
    'AWS_SECRET_ACCESS_KEY',
    'OPENAI_API_KEY',
    'NODE_OPTIONS',
    'PIP_INDEX_URL',
    'PYTORCH_ENABLE_MPS_FALLBACK',
    'LC_SECRET_TOKEN',
  ]) {
    assert.equal(dropped in env, false, `${dropped} must not be inherited`);
  }
  assert.equal(env['HOME'], app.home, "HOME is the app's");
  assert.equal(env['MY_FLAG'], 'on');
  assert.deepEqual(
    env['PATH']!.split(path.delimiter),
    [bin, '/usr/local/bin', '/usr/bin'],
    "app env first; the user's venv and conda bins removed",
  );
});

test('VIRTUAL_ENV is set only when the app env is a real venv; the layout is created with spaces in the path', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const h = resolveHome({ ORCHARD_HOME: path.join(dir, 'Orchard Home') });
    const a = appPaths(h, 'spaced app');
    await ensureAppLayout(a);
    await ensureAppLayout(a); // idempotent
    for (const folder of [a.root, a.app, a.env, a.models, a.home, a.cache, a.tmp, a.logs]) {
      assert.ok((await stat(folder)).isDirectory(), folder);
    }
    const bin = envBinDir(a);
    const before = processEnvironment(sandboxVariables(a, h), { envBinDir: bin, parent: { PATH: '/usr/bin' } });
    assert.equal('VIRTUAL_ENV' in before, false);
    await mkdir(bin, { recursive: true });
    await writeFile(path.join(a.env, 'pyvenv.cfg'), 'home = /usr/bin\n');
    const after = processEnvironment(sandboxVariables(a, h), { envBinDir: bin, parent: { PATH: `${bin}:/usr/bin` } });
    assert.equal(after['VIRTUAL_ENV'], a.env);
    assert.equal(after['PATH'], `${bin}:/usr/bin`, 'the env bin appears once');
    assert.ok(existsSync(a.logs));
  } finally {
    await cleanup();
  }
});
