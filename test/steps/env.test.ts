import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { isOrchardError } from '../../engine/core/errors.js';
import { envStep } from '../../engine/steps/env.js';
import { runStep } from '../../engine/steps/run.js';
import { findOnPath } from '../../sandbox/find-on-path.js';
import { tempDir } from '../helpers/paths.js';
import { makeTestApp, plannedStep, runParams, stepContext, type TestApp } from './context.js';

let root: string;
let cleanup: () => Promise<void>;
let t: TestApp;
before(async () => {
  ({ dir: root, cleanup } = await tempDir('orchard env '));
  t = await makeTestApp(root, 'py app');
});
after(() => cleanup());

const PROBE = `
import json, os, sys, tempfile
keys = ["HOME", "TMPDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "PIP_CACHE_DIR", "UV_CACHE_DIR", "HF_HOME", "TORCH_HOME",
        "VIRTUAL_ENV", "PYTHONNOUSERSITE", "PYTORCH_ENABLE_MPS_FALLBACK", "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"]
out = {k: os.environ.get(k) for k in keys}
out.update({"sys.prefix": sys.prefix, "tempfile": tempfile.gettempdir(), "expanduser": os.path.expanduser("~"),
            "cwd": os.getcwd(), "usersite": __import__("site").ENABLE_USER_SITE})
with open(sys.argv[1], "w") as f:
    json.dump(out, f)
`;

test('a real venv is made (python3 -m venv here) and a run step inside it sees only the app folder', async () => {
  const manager = findOnPath('uv', process.env) ? 'auto' : 'venv';
  const env = plannedStep('env', { type: 'python', manager, dir: t.app.env });
  const made = await envStep(env, await stepContext(t, 'env-0'));
  assert.equal(typeof made.outputs?.['python'], 'string');
  assert.ok(existsSync(path.join(t.app.env, 'bin', 'python')));
  assert.ok(existsSync(path.join(t.app.env, 'pyvenv.cfg')));

  const probeFile = path.join(t.app.root, 'probe result.json');
  await writeFile(path.join(t.app.app, 'probe.py'), PROBE);
  // A fresh context, as the installer makes one per step: the env now exists, so it is on PATH.
  const run = plannedStep('run', runParams(['python', 'probe.py', probeFile], t.app.app), { key: 'probe' });
  await runStep(run, await stepContext(t, run.key));
  const probe = JSON.parse(await readFile(probeFile, 'utf8')) as Record<string, string | boolean | null>;
  const inside = (v: unknown) => typeof v === 'string' && (v === t.app.root || v.startsWith(t.app.root + path.sep));
  for (const key of [
    'HOME',
    'TMPDIR',
    'XDG_CACHE_HOME',
    'XDG_CONFIG_HOME',
    'PIP_CACHE_DIR',
    'UV_CACHE_DIR',
    'HF_HOME',
    'TORCH_HOME',
    'tempfile',
    'expanduser',
    'cwd',
  ]) {
    assert.ok(inside(probe[key]), `${key}=${String(probe[key])} must be inside ${t.app.root}`);
  }
  assert.equal(probe['sys.prefix'], t.app.env, 'python runs from the app venv');
  assert.equal(probe['VIRTUAL_ENV'], t.app.env);
  assert.equal(probe['PYTHONNOUSERSITE'], '1');
  assert.equal(probe['usersite'], false, 'user site-packages disabled');
  assert.equal(probe['PYTORCH_ENABLE_MPS_FALLBACK'], null);
  assert.equal(probe['TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'], null);

  // Re-running keeps the complete env (same interpreter file, untouched).
  const before = await stat(path.join(t.app.env, 'pyvenv.cfg'));
  const ctx = await stepContext(t, 'env-0');
  await envStep(env, ctx);
  assert.equal((await stat(path.join(t.app.env, 'pyvenv.cfg'))).mtimeMs, before.mtimeMs);
  assert.match(await readFile(ctx.log.file, 'utf8'), /keeping the existing Python/);

  // useEnv: false runs the system python, not the venv's.
  const sys = plannedStep('run', runParams(['python3', '-c', 'import sys; print(sys.prefix)'], t.app.app, { useEnv: false }), {
    key: 'system python',
  });
  const sysCtx = await stepContext(t, sys.key);
  await runStep(sys, sysCtx);
  assert.doesNotMatch(await readFile(sysCtx.log.file, 'utf8'), new RegExp(`^${t.app.env.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
});

test('a half-made venv (no completion marker, broken interpreter) is rebuilt', async () => {
  const h = await makeTestApp(path.join(root, 'half'), 'half app');
  await writeFile(path.join(h.app.env, 'pyvenv.cfg'), 'home = /nowhere\n');
  const env = plannedStep('env', { type: 'python', manager: 'venv', dir: h.app.env });
  const ctx = await stepContext(h, 'env-0');
  await envStep(env, ctx);
  assert.match(await readFile(ctx.log.file, 'utf8'), /removing an incomplete or different environment/);
  assert.ok(existsSync(path.join(h.app.env, 'bin', 'python')));
});

test('a Python version that is not installed fails with the fix', async () => {
  const m = await makeTestApp(path.join(root, 'old'), 'old app');
  const env = plannedStep('env', { type: 'python', python: '3.4', manager: 'venv', dir: m.app.env });
  await assert.rejects(envStep(env, await stepContext(m, 'env-0')), (err: unknown) => {
    assert.ok(isOrchardError(err) && err.code === 'REQUIREMENT', String(err));
    assert.match(err.message, /needs Python 3\.4, but .* is 3\.\d+/);
    assert.match(err.hint ?? '', /Install uv .* or install Python 3\.4/);
    return true;
  });
  const uvOnly = plannedStep('env', { type: 'python', manager: 'uv', dir: m.app.env });
  if (!findOnPath('uv', process.env)) {
    await assert.rejects(
      envStep(uvOnly, await stepContext(m, 'env-1')),
      (err: unknown) => isOrchardError(err) && err.code === 'REQUIREMENT' && /uv is not installed/.test(err.message),
    );
  }
});

test('a node env is a prefix: `npm i -g` lands inside it; type none does nothing', async (tt) => {
  const n = await makeTestApp(path.join(root, 'node'), 'node app');
  await envStep(plannedStep('env', { type: 'node', manager: 'auto', dir: n.app.env }), await stepContext(n, 'env-0'));
  assert.ok(existsSync(path.join(n.app.env, 'bin')));
  assert.match(
    await readFile(path.join(n.app.home, '.npmrc'), 'utf8'),
    new RegExp(`^prefix=${n.app.env.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'),
  );
  if (!findOnPath('npm', process.env)) {
    tt.diagnostic('npm is not on PATH: the npm prefix check is skipped');
    return;
  }
  const step = plannedStep('run', runParams(['npm', 'config', 'get', 'prefix'], n.app.app), { key: 'npm prefix' });
  const ctx = await stepContext(n, step.key);
  await runStep(step, ctx);
  assert.match(await readFile(ctx.log.file, 'utf8'), new RegExp(`^${n.app.env.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));

  const none = await makeTestApp(path.join(root, 'none'), 'no env');
  await rm(none.app.env, { recursive: true });
  await envStep(plannedStep('env', { type: 'none', manager: 'auto', dir: none.app.env }), await stepContext(none, 'env-0'));
  assert.equal(existsSync(none.app.env), false);
});
